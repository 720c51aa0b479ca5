/**
 * Reads `read()` every `everyMs` until `accept` holds and returns that value; after `ms` throws
 * with `failure(last value)`. Polled from Node: Playwright's waitForFunction takes an async
 * predicate's Promise itself as truthy, so it cannot wait on getStats().
 */
export async function eventually<T>(
  read: () => T | Promise<T>,
  accept: (value: T) => boolean,
  failure: (last: T) => string,
  { ms = 10_000, everyMs = 50 }: { ms?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(failure(value));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
