/**
 * Runs `step`; when it fails, it fails with an error that carries the last lines of each
 * server's log (or of what else it is asked to read then, e.g. a server's counters), so that a
 * failure seen once on a busy CI machine says what the servers saw rather than only what the page
 * showed. A new error: jest prints an error's stack, which V8 wrote when the error was made, so a
 * message changed afterwards would never be seen.
 */
export async function withLogsOnFailure<T>(
  logs: Record<string, () => string | Promise<string>>,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const tails = await Promise.all(
      Object.entries(logs).map(
        async ([name, log]) => `--- ${name} (last lines)\n${(await log()).slice(-3000)}`,
      ),
    );
    const failure = error instanceof Error ? (error.stack ?? error.message) : String(error);
    throw new Error([failure, ...tails].join('\n'), { cause: error });
  }
}
