/**
 * A rendezvous session: two people agree on a call through a shared link.
 *
 * Valid transitions:
 * 1. "waiting" --> "ready"        (the second person joined)
 * 2. "waiting" --> "expired"      (nobody joined within the session's time to live)
 * 3. "ready" --> "ringing"        (an INVITE between the two identities passed the gateway)
 * 4. "ringing" --> "connected"    (the callee answered: 2xx)
 * 5. "ready" | "ringing" --> "failed"   (declined or other 4xx–6xx, cancelled, no call or no answer in time)
 * 6. "waiting" | "ready" | "ringing" | "connected" --> "ended"  (a participant left, or BYE)
 * "expired", "failed" and "ended" are final: joining then gets 410.
 */
export enum SessionState {
  Waiting = 'waiting',
  Ready = 'ready',
  Ringing = 'ringing',
  Connected = 'connected',
  Ended = 'ended',
  Expired = 'expired',
  Failed = 'failed',
}

export const SESSION_TRANSITIONS: ReadonlyArray<readonly [SessionState, SessionState]> = [
  [SessionState.Waiting, SessionState.Ready],
  [SessionState.Waiting, SessionState.Expired],
  [SessionState.Ready, SessionState.Ringing],
  [SessionState.Ringing, SessionState.Connected],
  [SessionState.Ready, SessionState.Failed],
  [SessionState.Ringing, SessionState.Failed],
  [SessionState.Waiting, SessionState.Ended],
  [SessionState.Ready, SessionState.Ended],
  [SessionState.Ringing, SessionState.Ended],
  [SessionState.Connected, SessionState.Ended],
];

const ALLOWED = new Set(SESSION_TRANSITIONS.map(([from, to]) => `${from}>${to}`));

export function canTransition(from: SessionState, to: SessionState): boolean {
  return ALLOWED.has(`${from}>${to}`);
}

export function isFinalSessionState(state: SessionState): boolean {
  return state === SessionState.Ended || state === SessionState.Expired || state === SessionState.Failed;
}

/** How long a session may stay in each state before it fails or expires, ms (waiting: the TTL). */
export interface SessionTimeouts {
  waiting: number;
  ready: number;
  ringing: number;
}
