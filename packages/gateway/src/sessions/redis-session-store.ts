import { Redis } from 'ioredis';
import type { Logger } from '../sip/logger.js';
import type { RendezvousSession, SessionEvent } from './rendezvous-session.js';
import type { SessionStore } from './session-store.js';

const KEY = (id: string) => `ringway:session:${id}`;
const CODE = (codeKey: string) => `ringway:code:${codeKey}`;
const LIVE = 'ringway:sessions:live';
const CHANNEL = 'ringway:session-events';

/**
 * Sessions in Redis, shared by every gateway that names the same REDIS_URL: sessions as JSON
 * with an expiry, join codes as keys, live sessions in a sorted set scored by expiry, and state
 * changes on one pub/sub channel that each gateway fans out to its own listeners.
 */
export class RedisSessionStore implements SessionStore {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #listeners = new Map<string, Set<(event: SessionEvent) => void>>();
  /** Whether the last thing Redis did was fail, so an outage is logged once, not per retry. */
  #down = false;

  constructor(
    url: string,
    private readonly log: Logger,
  ) {
    // lazyConnect: nothing is resolved or connected while the gateway starts (connect() comes
    // after listen). No offline queue: while Redis is away a command fails at once, so a
    // request gets 503 now rather than 500 after retries.
    this.#redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    // The subscriber keeps its queue: its one SUBSCRIBE waits for the connection, and ioredis
    // subscribes again after every reconnection.
    this.#subscriber = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    // Unhandled, ioredis prints every failed reconnection to stderr outside the JSON log.
    for (const client of [this.#redis, this.#subscriber]) {
      client.on('error', (error: Error) => this.#unreachable(error));
      client.on('ready', () => this.#reachable());
    }
    this.#subscriber.on('message', (_channel: string, message: string) => {
      const event = JSON.parse(message) as SessionEvent;
      for (const listener of this.#listeners.get(event.id) ?? []) listener(event);
    });
    this.#subscriber.subscribe(CHANNEL).catch((error: Error) => {
      // Without the channel this gateway would miss other gateways' events: say so.
      log.error({ err: error, channel: CHANNEL }, 'cannot subscribe to session events');
    });
  }

  /** Starts connecting, once the gateway listens; reconnection goes on by itself. */
  connect(): void {
    this.#redis.connect().catch(() => undefined);
  }

  get ready(): boolean {
    return this.#redis.status === 'ready';
  }

  #unreachable(error: Error): void {
    if (this.#down) return;
    this.#down = true;
    this.log.warn({ err: error.message }, 'Redis unreachable; session requests get 503 until it is back');
  }

  #reachable(): void {
    if (!this.#down) return;
    this.#down = false;
    this.log.info('Redis reachable again');
  }

  async create(
    session: RendezvousSession,
    codeKey: string,
    maxLive: number,
    keepMs: number,
  ): Promise<boolean> {
    const now = Date.now();
    await this.#redis.zremrangebyscore(LIVE, 0, now);
    if ((await this.#redis.zcard(LIVE)) >= maxLive) return false;
    await this.#redis
      .multi()
      .set(KEY(session.id), JSON.stringify(session), 'PX', keepMs)
      .set(CODE(codeKey), session.id, 'PX', keepMs)
      .zadd(LIVE, now + keepMs, session.id)
      .exec();
    return true;
  }

  async get(id: string): Promise<RendezvousSession | undefined> {
    const text = await this.#redis.get(KEY(id));
    return text ? (JSON.parse(text) as RendezvousSession) : undefined;
  }

  async idForCode(codeKey: string): Promise<string | undefined> {
    return (await this.#redis.get(CODE(codeKey))) ?? undefined;
  }

  async update(
    id: string,
    change: (session: RendezvousSession) => RendezvousSession | undefined,
    keepMs: number,
  ): Promise<RendezvousSession | undefined> {
    // Optimistic transaction: WATCH the key, write only if nobody else wrote meanwhile.
    for (let attempt = 0; attempt < 10; attempt++) {
      await this.#redis.watch(KEY(id));
      const current = await this.get(id);
      const next = current && change(current);
      if (!next) {
        await this.#redis.unwatch();
        return undefined;
      }
      const result = await this.#redis.multi().set(KEY(id), JSON.stringify(next), 'PX', keepMs).exec();
      if (result !== null) return next;
    }
    throw new Error(`session ${id}: too many concurrent updates`);
  }

  async retire(id: string): Promise<void> {
    await this.#redis.zrem(LIVE, id);
  }

  async publish(event: SessionEvent): Promise<void> {
    await this.#redis.publish(CHANNEL, JSON.stringify(event));
  }

  subscribe(id: string, listener: (event: SessionEvent) => void): () => void {
    let listeners = this.#listeners.get(id);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(id, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.#listeners.delete(id);
    };
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
    this.#subscriber.disconnect();
  }
}
