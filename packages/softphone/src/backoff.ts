/** Reconnection delays: exponential, capped, with full jitter so that clients of a restarted gateway do not return in one wave. */
export interface BackoffOptions {
  /** First delay's upper bound, ms. Default 500. */
  baseMs?: number;
  /** Largest delay, ms. Default 30000. */
  maxMs?: number;
}

/** Delay before reconnection attempt `attempt` (0-based); `random` is injectable for tests. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { baseMs = 500, maxMs = 30_000 } = options;
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
