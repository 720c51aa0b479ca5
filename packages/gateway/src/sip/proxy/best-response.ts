import type { SipResponse } from '../message.js';

/**
 * The response a forking proxy sends when every branch failed (RFC 3261 §16.7 step 6): any 6xx;
 * else the lowest class, with 4xx before 5xx and, inside 4xx, the answers a caller can act on
 * (authentication, unsupported media or extensions) first. Returns undefined when no branch
 * answered at all.
 */
const ACTIONABLE_4XX = new Set([401, 407, 415, 420, 484]);

function rank(status: number): number {
  if (status >= 600) return 0;
  if (status >= 300 && status < 400) return 1;
  if (ACTIONABLE_4XX.has(status)) return 2;
  if (status >= 400 && status < 500) return 3;
  return 4;
}

export function bestResponse(finals: readonly SipResponse[]): SipResponse | undefined {
  let best: SipResponse | undefined;
  for (const response of finals) {
    if (!best || rank(response.status) < rank(best.status)) best = response;
  }
  return best;
}
