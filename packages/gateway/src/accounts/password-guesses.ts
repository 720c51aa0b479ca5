import { isIPv6 } from 'node:net';

/**
 * Limits on wrong passwords, per account and per client address, shared by every place a
 * password is checked: SIP digest (REGISTER, INVITE, ...) and the page's sign-in form, which take
 * the same password of a SIP device, so that one does not bypass the other. Kamailio's pike and
 * htable pattern (a counter per key that decays, and a refusal without checking while it is
 * high), with a backoff that doubles instead of a fixed ban.
 *
 * Why not a lock-out: a lock-out after N failures lets anybody who knows a user name keep that
 * user out. Here an account's failures only delay attempts from addresses that have themselves
 * failed recently (on any account): the account's owner, at an address that has not, is still
 * checked and gets in while somebody else guesses. The price is that an attacker with many
 * addresses gets one guess per address and `addressRecentMs` (15 minutes) beyond the account's
 * backoff; the per-address limit bounds what each address can do in the meantime. The tables are
 * per process: with WORKERS > 1 each worker counts its own connections' failures.
 */
export interface GuessLimit {
  /** Failures before any delay. */
  free: number;
  /** One failure is forgotten per this many ms (a leaky bucket). */
  forgetMs: number;
  /** The delay after the failure that reaches `free`; it doubles with each failure after that. */
  firstDelayMs: number;
  /** The longest delay. */
  maxDelayMs: number;
}

export interface PasswordGuessOptions {
  /**
   * Per account. Above the per-address limit, so that one address meets its own limit first and
   * this one catches guesses spread over many addresses. Default 20 free, one forgotten per
   * 3 minutes (an hour to forget 20), then 5 s, 10 s, 20 s ... up to 15 minutes.
   */
  account: GuessLimit;
  /**
   * Per client address (IPv6 per /64, which one subscriber usually has whole), whatever the
   * account. Default 10 free (the sign-in form's attempts per address and minute), one forgotten
   * per 30 s, then 5 s, 10 s, 20 s ... up to 5 minutes.
   */
  address: GuessLimit;
  /** How long an address that failed counts as suspect for an account in backoff, ms. Default 15 minutes. */
  addressRecentMs: number;
  /** Accounts and addresses remembered at most, each; the oldest are forgotten first. Default 10,000. */
  maxEntries: number;
  now: () => number;
}

export const DEFAULT_GUESS_LIMITS: PasswordGuessOptions = {
  account: { free: 20, forgetMs: 3 * 60_000, firstDelayMs: 5_000, maxDelayMs: 15 * 60_000 },
  address: { free: 10, forgetMs: 30_000, firstDelayMs: 5_000, maxDelayMs: 5 * 60_000 },
  addressRecentMs: 15 * 60_000,
  maxEntries: 10_000,
  now: Date.now,
};

/** Longest account key kept: a user name from the wire is cut to this (no real one is longer). */
const MAX_KEY_LENGTH = 128;

export type GuessAdmission = { ok: true } | { ok: false; retryAfterMs: number; limit: 'account' | 'address' };

interface Failures {
  /** Failures not yet forgotten, as of `at`. */
  score: number;
  /** The last failure, ms. */
  at: number;
  /** No attempt is checked before this, ms (0: none delayed). */
  until: number;
}

/**
 * Failures per key, decaying; at most `maxEntries` keys, the least recently failed dropped first.
 * An entry is kept until it is forgotten and delays nothing, and for at least `keepMs` after its
 * last failure.
 */
class FailureTable {
  readonly #entries = new Map<string, Failures>();

  constructor(
    readonly limit: GuessLimit,
    readonly maxEntries: number,
    readonly keepMs: number,
  ) {}

  get(key: string): Failures | undefined {
    return this.#entries.get(key);
  }

  fail(key: string, now: number): void {
    const before = this.#entries.get(key);
    const forgotten = before ? (now - before.at) / this.limit.forgetMs : 0;
    const score = Math.max(0, (before?.score ?? 0) - forgotten) + 1;
    const { free, firstDelayMs, maxDelayMs } = this.limit;
    // The free-th failure in a row brings the score above free - 1 (not to free: what leaked
    // away in the meantime is a fraction); each whole failure above it doubles the delay.
    const excess = Math.max(0, Math.ceil(score - free));
    const until = score > free - 1 ? now + Math.min(maxDelayMs, firstDelayMs * 2 ** excess) : 0;
    // Deleted and set again so that the Map's order is the order of the last failure.
    this.#entries.delete(key);
    this.#entries.set(key, { score, at: now, until });
    this.#trim(now);
  }

  /** Drops entries fully forgotten, then the oldest while over the cap. */
  #trim(now: number): void {
    for (const [key, entry] of this.#entries) {
      const idle = now - entry.at;
      const forgotten =
        idle >= entry.score * this.limit.forgetMs && idle >= this.keepMs && entry.until <= now;
      if (!forgotten && this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(key);
    }
  }
}

/** The key of a client address: IPv4 as is (also when IPv4-mapped), IPv6 per /64. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address.slice(0, 64);
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

export class PasswordGuesses {
  readonly #options: PasswordGuessOptions;
  readonly #accounts: FailureTable;
  readonly #addresses: FailureTable;

  constructor(options: Partial<PasswordGuessOptions> = {}) {
    this.#options = { ...DEFAULT_GUESS_LIMITS, ...options };
    const { account, address, maxEntries, addressRecentMs } = this.#options;
    this.#accounts = new FailureTable(account, maxEntries, 0);
    // An address is remembered as long as it counts as suspect, not only as long as it is delayed.
    this.#addresses = new FailureTable(address, maxEntries, addressRecentMs);
  }

  /**
   * Whether a password for `account` (undefined when no such account exists) from `address` may
   * be checked now; when not, how long until it may.
   */
  admit(account: string | undefined, address: string): GuessAdmission {
    const now = this.#options.now();
    const byAddress = this.#addresses.get(addressKey(address));
    if (byAddress && byAddress.until > now)
      return { ok: false, retryAfterMs: byAddress.until - now, limit: 'address' };
    const byAccount = account === undefined ? undefined : this.#accounts.get(accountKey(account));
    if (!byAccount || byAccount.until <= now) return { ok: true };
    const suspect = byAddress !== undefined && now - byAddress.at < this.#options.addressRecentMs;
    return suspect ? { ok: false, retryAfterMs: byAccount.until - now, limit: 'account' } : { ok: true };
  }

  /**
   * A wrong password (or an unknown user name: `account` undefined) from `address`. A right one
   * resets nothing: were it to, an attacker could wash an address (or an account's count) clean
   * by signing in to an account of their own between guesses, and a device that re-registers
   * every few minutes would reset its account's count for whoever is guessing it.
   */
  failed(account: string | undefined, address: string): void {
    const now = this.#options.now();
    this.#addresses.fail(addressKey(address), now);
    if (account !== undefined) this.#accounts.fail(accountKey(account), now);
  }
}

function accountKey(account: string): string {
  return account.slice(0, MAX_KEY_LENGTH);
}
