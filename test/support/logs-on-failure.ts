/**
 * Runs `step`; when it fails, it fails with an error that carries the last lines of each
 * server's log, so that a failure seen once on a busy CI machine says what the servers saw
 * rather than only what the page showed. A new error: jest prints an error's stack, which V8
 * wrote when the error was made, so a message changed afterwards would never be seen.
 */
export async function withLogsOnFailure<T>(
  logs: Record<string, () => string>,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const tails = Object.entries(logs).map(
      ([name, log]) => `--- ${name} (last lines)\n${log().slice(-3000)}`,
    );
    const failure = error instanceof Error ? (error.stack ?? error.message) : String(error);
    throw new Error([failure, ...tails].join('\n'), { cause: error });
  }
}
