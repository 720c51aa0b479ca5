import { EventEmitter } from 'node:events';
import type { RendezvousSession, SessionEvent } from './rendezvous-session.js';

/**
 * Where sessions live: in this process by default, in Redis when several gateways share them.
 * `update` applies a change atomically (the Redis store retries on a concurrent write), so that
 * two gateways racing on one session cannot both move it.
 */
export interface SessionStore {
  /** Whether the store can be used now (Redis connected); requests get 503 while it cannot. */
  readonly ready: boolean;
  /** Starts connecting to a remote store, once the gateway listens. */
  connect(): void;
  /** Stores a new session and its join code; false when `maxLive` sessions already exist. */
  create(session: RendezvousSession, codeKey: string, maxLive: number, keepMs: number): Promise<boolean>;
  get(id: string): Promise<RendezvousSession | undefined>;
  idForCode(codeKey: string): Promise<string | undefined>;
  /** Applies `change` to the current value; `change` returns undefined to leave it as it is. */
  update(
    id: string,
    change: (session: RendezvousSession) => RendezvousSession | undefined,
    keepMs: number,
  ): Promise<RendezvousSession | undefined>;
  /** Marks a session as no longer live (it stays readable until it is forgotten). */
  retire(id: string): Promise<void>;
  publish(event: SessionEvent): Promise<void>;
  subscribe(id: string, listener: (event: SessionEvent) => void): () => void;
  close(): Promise<void>;
}

interface Stored {
  session: RendezvousSession;
  forgetAt: number;
}

export class MemorySessionStore implements SessionStore {
  readonly ready = true;
  connect(): void {}

  readonly #sessions = new Map<string, Stored>();
  readonly #codes = new Map<string, string>();
  readonly #live = new Set<string>();
  readonly #events = new EventEmitter().setMaxListeners(0);

  async create(
    session: RendezvousSession,
    codeKey: string,
    maxLive: number,
    keepMs: number,
  ): Promise<boolean> {
    this.#forgetOld();
    if (this.#live.size >= maxLive) return false;
    this.#sessions.set(session.id, { session, forgetAt: Date.now() + keepMs });
    this.#codes.set(codeKey, session.id);
    this.#live.add(session.id);
    return true;
  }

  async get(id: string): Promise<RendezvousSession | undefined> {
    const stored = this.#sessions.get(id);
    return stored && stored.forgetAt > Date.now() ? stored.session : undefined;
  }

  async idForCode(codeKey: string): Promise<string | undefined> {
    return this.#codes.get(codeKey);
  }

  async update(
    id: string,
    change: (session: RendezvousSession) => RendezvousSession | undefined,
    keepMs: number,
  ): Promise<RendezvousSession | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return undefined;
    this.#sessions.set(id, { session: next, forgetAt: Date.now() + keepMs });
    return next;
  }

  async retire(id: string): Promise<void> {
    this.#live.delete(id);
  }

  async publish(event: SessionEvent): Promise<void> {
    this.#events.emit(event.id, event);
  }

  subscribe(id: string, listener: (event: SessionEvent) => void): () => void {
    this.#events.on(id, listener);
    return () => this.#events.off(id, listener);
  }

  async close(): Promise<void> {
    this.#events.removeAllListeners();
  }

  #forgetOld(): void {
    const now = Date.now();
    for (const [id, stored] of this.#sessions) {
      if (stored.forgetAt <= now) {
        this.#sessions.delete(id);
        this.#live.delete(id);
      }
    }
    for (const [code, id] of this.#codes) if (!this.#sessions.has(id)) this.#codes.delete(code);
  }
}
