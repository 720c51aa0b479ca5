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

/**
 * Runs `body` within `ms`, and past it throws naming the step it was in (each named by `step`
 * as it starts): a jest timeout says only that the test took too long.
 */
export async function inNamedSteps(
  ms: number,
  body: (step: (name: string) => void) => Promise<void>,
): Promise<void> {
  let current = 'starting';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done after ${ms} ms: still ${current}`)), ms);
  });
  try {
    await Promise.race([
      body((name) => {
        current = name;
      }),
      overrun,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
