import type { Logger } from '../logger.js';

/** Expired entries are looked for at most this often, when something new is kept. */
const SWEEP_EVERY_MS = 1000;
/** The last-resort eviction is logged at most this often, with how many were dropped since. */
const WARN_EVERY_MS = 10_000;

export interface TransactionMemoryOptions {
  /** What is kept, for the log line when the bound drops something (`offers`, `registrations`). */
  name: string;
  /**
   * The bound on entries, against a flood only: lifetimes end entries, this drops the oldest
   * (and logs it) when more are in flight at once than any real load has.
   */
  maxEntries: number;
  log: Logger;
}

/**
 * What the stateless relay keeps of a transaction it passed on (the offer for the codec policy,
 * the REGISTER's Contacts) until the transaction ends or outlives its timers. Entries go by age,
 * never because newer ones came: at a high call rate an answer would otherwise arrive after its
 * offer was pushed out and cross unpoliced.
 */
export class TransactionMemory<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  #sweptAt = 0;
  #dropped = 0;
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: TransactionMemoryOptions) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Keeps `value` for `lifetimeMs` (a retransmitted request keeps the newest copy, for as long). */
  set(key: string, value: V, lifetimeMs: number): void {
    const now = Date.now();
    this.#sweep(now);
    this.#entries.delete(key);
    if (this.#entries.size >= this.options.maxEntries) this.#dropOldest(now);
    this.#entries.set(key, { value, expiresAt: now + lifetimeMs });
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > Date.now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  /** The transaction goes on (a provisional answer, a 2xx that may be retransmitted): `lifetimeMs` from now. */
  extend(key: string, lifetimeMs: number): void {
    const entry = this.#entries.get(key);
    if (entry) entry.expiresAt = Date.now() + lifetimeMs;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < SWEEP_EVERY_MS) return;
    this.#sweptAt = now;
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }

  #dropOldest(now: number): void {
    const oldest = this.#entries.keys().next();
    if (oldest.done) return;
    this.#entries.delete(oldest.value);
    this.#dropped += 1;
    if (now - this.#warnedAt < WARN_EVERY_MS) return;
    this.options.log.warn(
      { kept: this.options.name, maxEntries: this.options.maxEntries, dropped: this.#dropped },
      'more transactions in flight than the relay keeps; the oldest were forgotten before their end',
    );
    this.#warnedAt = now;
    this.#dropped = 0;
  }
}
