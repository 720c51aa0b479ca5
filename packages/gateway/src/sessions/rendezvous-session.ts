import type { SessionState } from './session-state.js';

/** One rendezvous session as stored (in memory or in Redis). */
export interface RendezvousSession {
  id: string;
  state: SessionState;
  /** Why it is in this state, for people: "joined", "declined (603)", "nobody joined in time"… */
  reason: string;
  createdAt: number;
  /** When the session stops accepting a join (and its credentials stop working). */
  expiresAt: number;
  stateChangedAt: number;
  joined: boolean;
}

/** A state change, as pushed to both pages. */
export interface SessionEvent {
  id: string;
  state: SessionState;
  reason: string;
  at: number;
}

/** The SIP identity of each side of a session: the creator is "a", the joiner "b". */
export function sessionUser(id: string, side: 'a' | 'b'): string {
  return `rw-${id}-${side}`;
}

const SESSION_USER = /^rw-([0-9a-f]{32})-([ab])$/;

export function sessionOfUser(user: string | undefined): string | undefined {
  return user ? SESSION_USER.exec(user)?.[1] : undefined;
}
