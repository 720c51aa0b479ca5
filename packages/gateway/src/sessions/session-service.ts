import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { IceServer } from '../config/config-schema.js';
import { type ClientCredentials, issueClientCredentials } from '../sip/auth/client-credentials.js';
import type { Logger } from '../sip/logger.js';
import type { CallEvent } from '../sip/proxy/proxy-core.js';
import {
  type RendezvousSession,
  type SessionEvent,
  sessionOfUser,
  sessionUser,
} from './rendezvous-session.js';
import { canTransition, isFinalSessionState, SessionState, type SessionTimeouts } from './session-state.js';
import type { SessionStore } from './session-store.js';

/** Join codes: no 0/o, 1/l/i, so that a code read aloud or copied by hand still works. */
const CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const CODE_LENGTH = 10;
/** Finished sessions stay readable this long, so that a late join gets 410 rather than 404. */
const KEEP_FINISHED_MS = 60 * 60 * 1000;

/** Words for the final status of a refused call between the two (RFC 3261 §21). */
const REFUSALS: Readonly<Record<number, string>> = {
  408: 'no answer',
  480: 'unavailable',
  486: 'busy',
  487: 'cancelled',
  488: 'no common codec',
  603: 'declined',
};

export interface SessionServiceOptions {
  store: SessionStore;
  sipDomain: string;
  /** Secret of the ephemeral credentials (the gateway's AUTH_SECRET, or one made up per process). */
  secret: string;
  iceServers: IceServer[];
  /** Lifetime of a session and of its credentials, ms. */
  ttlMs: number;
  timeouts: SessionTimeouts;
  maxLive: number;
  log: Logger;
}

export type Credentials = ClientCredentials;

export type JoinOutcome =
  | { ok: true; session: RendezvousSession; credentials: Credentials; peer: string }
  | { ok: false; status: 404 | 409 | 410; error: string };

/** The key a code is stored under: a hash, so that a lookup compares no secret byte by byte. */
function codeKey(code: string): string {
  return createHash('sha256').update(code.toLowerCase()).digest('hex');
}

function newCode(): string {
  return Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}

/**
 * Rendezvous sessions: creation and joining with ephemeral credentials bound to each side's SIP
 * identity, the session state machine (session-state.ts) driven by the API and by the calls the
 * proxy sees between the two identities, a timer on every waiting state, and an event for every
 * change, published through the store so that every gateway sharing it hears it.
 */
export class SessionService {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /**
   * Each session's moves from call events not yet done, chained: a move is a few round trips to
   * the store, and an answer that comes while its INVITE's move is still on its way must wait for
   * it, or it finds the session not yet ringing and is lost (a call link across two gateways stayed
   * "ringing" under load). Only while moves are pending.
   */
  readonly #pendingMoves = new Map<string, Promise<unknown>>();

  constructor(private readonly options: SessionServiceOptions) {}

  /** Whether sessions can be served now (their store is reachable). */
  get available(): boolean {
    return this.options.store.ready;
  }

  async create(
    wsServer: string,
  ): Promise<{ session: RendezvousSession; code: string; credentials: Credentials } | undefined> {
    const now = Date.now();
    const session: RendezvousSession = {
      id: randomBytes(16).toString('hex'),
      state: SessionState.Waiting,
      reason: 'waiting for the other person',
      createdAt: now,
      expiresAt: now + this.options.ttlMs,
      stateChangedAt: now,
      joined: false,
    };
    const code = newCode();
    const stored = await this.options.store.create(
      session,
      codeKey(code),
      this.options.maxLive,
      this.options.ttlMs,
    );
    if (!stored) return undefined;
    this.#arm(session);
    return { session, code, credentials: this.#credentials(session, 'a', wsServer) };
  }

  async join(code: string, wsServer: string): Promise<JoinOutcome> {
    const id = await this.options.store.idForCode(codeKey(code));
    const current = id ? await this.options.store.get(id) : undefined;
    if (!id || !current) return { ok: false, status: 404, error: 'no session has this code' };
    const joined = await this.#move(id, [SessionState.Waiting], SessionState.Ready, 'both joined', {
      joined: true,
    });
    if (!joined) {
      const now = await this.options.store.get(id);
      if (!now || isFinalSessionState(now.state))
        return { ok: false, status: 410, error: `the session has ${now?.state ?? 'ended'}` };
      return { ok: false, status: 409, error: 'the session already has two people' };
    }
    return {
      ok: true,
      session: joined,
      credentials: this.#credentials(joined, 'b', wsServer),
      peer: `sip:${sessionUser(id, 'a')}@${this.options.sipDomain}`,
    };
  }

  get(id: string): Promise<RendezvousSession | undefined> {
    return this.options.store.get(id);
  }

  /** A participant leaves: the session ends (whatever live state it was in). */
  async end(id: string, reason: string): Promise<RendezvousSession | undefined> {
    return this.#move(
      id,
      [SessionState.Waiting, SessionState.Ready, SessionState.Ringing, SessionState.Connected],
      SessionState.Ended,
      reason,
    );
  }

  subscribe(id: string, listener: (event: SessionEvent) => void): () => void {
    return this.options.store.subscribe(id, listener);
  }

  /** Moves sessions on the SIP traffic between their two identities. */
  observe(event: CallEvent): void {
    const id = sessionOfUser(event.fromUser);
    if (!id || sessionOfUser(event.toUser) !== id) return;
    const moves: Record<CallEvent['type'], () => Promise<unknown>> = {
      invite: () => this.#move(id, [SessionState.Ready], SessionState.Ringing, 'ringing'),
      reinvite: () => Promise.resolve(),
      // The session already says ringing from the INVITE.
      ringing: () => Promise.resolve(),
      answered: () => this.#move(id, [SessionState.Ringing], SessionState.Connected, 'connected'),
      rejected: () => {
        const status = event.status ?? 0;
        const words = REFUSALS[status] ?? 'refused';
        return this.#move(
          id,
          [SessionState.Ready, SessionState.Ringing],
          SessionState.Failed,
          `${words} (${status})`,
        );
      },
      bye: () => this.#move(id, [SessionState.Connected], SessionState.Ended, 'hung up'),
    };
    // SIP traffic drives this: while the store is away every call event would fail, and a
    // client's traffic must not fill the error log (the outage itself is logged once).
    const move = (this.#pendingMoves.get(id) ?? Promise.resolve())
      .then(moves[event.type])
      .catch((error: Error) =>
        this.options.log.warn({ err: error.message, sessionId: id }, 'session update failed'),
      );
    this.#pendingMoves.set(id, move);
    void move.then(() => {
      if (this.#pendingMoves.get(id) === move) this.#pendingMoves.delete(id);
    });
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Credentials for one side, valid as long as the session (Kamailio auth_ephemeral scheme). */
  #credentials(session: RendezvousSession, side: 'a' | 'b', wsServer: string): Credentials {
    return issueClientCredentials(this.options.secret, {
      user: sessionUser(session.id, side),
      sipDomain: this.options.sipDomain,
      ttlSeconds: Math.max(1, Math.round((session.expiresAt - Date.now()) / 1000)),
      wsServer,
      iceServers: this.options.iceServers,
    });
  }

  async #move(
    id: string,
    from: SessionState[],
    to: SessionState,
    reason: string,
    extra: Partial<RendezvousSession> = {},
  ): Promise<RendezvousSession | undefined> {
    const now = Date.now();
    const keepMs = isFinalSessionState(to) ? KEEP_FINISHED_MS : this.options.ttlMs;
    const moved = await this.options.store.update(
      id,
      (session) =>
        from.includes(session.state) && canTransition(session.state, to)
          ? { ...session, ...extra, state: to, reason, stateChangedAt: now }
          : undefined,
      keepMs,
    );
    if (!moved) return undefined;
    this.options.log.info({ sessionId: id, state: to, reason }, 'session state');
    if (isFinalSessionState(to)) await this.options.store.retire(id);
    this.#arm(moved);
    await this.options.store.publish({ id, state: to, reason, at: now });
    return moved;
  }

  /** A timer for the state the session is in, if that state has a time limit. */
  #arm(session: RendezvousSession): void {
    clearTimeout(this.#timers.get(session.id));
    this.#timers.delete(session.id);
    const limits: Partial<Record<SessionState, [number, SessionState, string]>> = {
      [SessionState.Waiting]: [this.options.timeouts.waiting, SessionState.Expired, 'nobody joined in time'],
      [SessionState.Ready]: [this.options.timeouts.ready, SessionState.Failed, 'nobody called in time'],
      [SessionState.Ringing]: [this.options.timeouts.ringing, SessionState.Failed, 'no answer in time'],
    };
    const limit = limits[session.state];
    if (!limit) return;
    const [ms, next, reason] = limit;
    const timer = setTimeout(
      () => {
        this.#timers.delete(session.id);
        this.#move(session.id, [session.state], next, reason).catch(() => undefined);
      },
      Math.max(0, session.stateChangedAt + ms - Date.now()),
    );
    timer.unref();
    this.#timers.set(session.id, timer);
  }
}
