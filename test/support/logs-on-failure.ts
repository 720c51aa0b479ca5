/**
 * Runs `step`; when it fails, its error carries the last lines of each server's log, so that a
 * failure seen once on a busy CI machine says what the servers saw rather than only what the
 * page showed.
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
    if (error instanceof Error) error.message = [error.message, ...tails].join('\n');
    throw error;
  }
}
