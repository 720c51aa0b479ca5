import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { PasswordGuesses } from '../../accounts/password-guesses.js';
import type { CredentialSource } from './credentials.js';
import { NonceCounts } from './nonce-counts.js';

/**
 * SIP digest authentication (RFC 3261 §22.4, RFC 8760 for SHA-256) with stateless nonces: a
 * nonce is its issue time and the connection it was issued to, signed with a key derived from
 * the operator's secret (config/server-keys.ts), so that thousands of clients can be challenged
 * without keeping a table, and gateways (and worker processes) sharing the secret accept each
 * other's nonces — for the same connection only, which a replay from elsewhere is not.
 */
const ALGORITHMS = { 'SHA-256': 'sha256', MD5: 'md5' } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;
type Algorithm = DigestAlgorithm;

export function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return Object.hasOwn(ALGORITHMS, name);
}
const NONCE_LIFETIME_MS = 5 * 60 * 1000;
/** Nonces whose counts are kept at most: a few minutes of successful authentications. */
const MAX_NONCE_COUNTS = 100_000;
/** The longest digest username taken; longer ones are refused unread (no real one comes near). */
const MAX_USERNAME_LENGTH = 256;

export type DigestResult =
  | { ok: true; user: string; username: string }
  | { ok: false; stale: boolean; reason: string }
  /** Too many wrong passwords for the username or from the address: not checked. */
  | { ok: false; stale: false; reason: string; retryAfterMs: number };

/** The request a credential came with, and where from. */
export interface DigestRequest {
  method: string;
  /** The Request-URI as received: the credential's `uri` must be exactly it (RFC 3261 §22.4). */
  uri: string;
  /** The connection (flow id) it came on: the nonce must have been issued to this connection. */
  connection: string;
  /** The client's address, for the limits on wrong passwords. */
  address: string;
}

/** A refusal that says why; `stale` asks the client to answer a fresh challenge without asking its user. */
const refused = (reason: string, stale = false): DigestResult => ({ ok: false, stale, reason });

function hash(algorithm: Algorithm, text: string): string {
  return createHash(ALGORITHMS[algorithm]).update(text).digest('hex');
}

/**
 * The `response` of a digest credential (RFC 2617 §3.2.2.1, RFC 8760): what a client sends and
 * what the server expects, one computation for both sides. `qop` given: `auth` with its nc and
 * cnonce; absent: the RFC 2069 form.
 */
export function digestResponse(
  algorithm: DigestAlgorithm,
  c: { username: string; realm: string; password: string; method: string; uri: string; nonce: string },
  qop?: { nc: string; cnonce: string },
): string {
  const ha1 = hash(algorithm, `${c.username}:${c.realm}:${c.password}`);
  const ha2 = hash(algorithm, `${c.method}:${c.uri}`);
  return qop
    ? hash(algorithm, `${ha1}:${c.nonce}:${qop.nc}:${qop.cnonce}:auth:${ha2}`)
    : hash(algorithm, `${ha1}:${c.nonce}:${ha2}`);
}

/** Parses `Digest k=v, k="v", ...` into lower-cased keys. */
export function parseDigestParams(value: string): Record<string, string> | undefined {
  const match = /^\s*Digest\s+(.*)$/is.exec(value);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const pair of (match[1] as string).matchAll(/([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)/g)) {
    const raw = pair[2] as string;
    params[(pair[1] as string).toLowerCase()] = raw.startsWith('"')
      ? raw.slice(1, -1).replace(/\\(.)/g, '$1')
      : raw;
  }
  return params;
}

export class DigestAuthenticator {
  readonly #counts = new NonceCounts(MAX_NONCE_COUNTS);

  constructor(
    readonly realm: string,
    readonly credentials: CredentialSource,
    readonly nonceKey: Buffer,
    private readonly now: () => number = Date.now,
    /** Wrong passwords so far, per username and address (shared with the sign-in form). */
    readonly guesses: PasswordGuesses = new PasswordGuesses({ now }),
  ) {}

  #mac(text: string, length: number): string {
    return createHmac('sha256', this.nonceKey).update(text).digest('base64url').slice(0, length);
  }

  /** Which connection a nonce was issued to, without naming it: flow ids are in Record-Routes. */
  #connectionTag(connection: string): string {
    return this.#mac(`connection\n${connection}`, 11);
  }

  /** A nonce for `connection`: `<issued, base 36>.<connection tag>.<signature>`. */
  newNonce(connection = ''): string {
    const issued = this.now().toString(36);
    const bound = `${issued}.${this.#connectionTag(connection)}`;
    return `${bound}.${this.#mac(bound, 22)}`;
  }

  /**
   * Challenge header values, strongest first (RFC 8760 §2.4: one per algorithm, in order of
   * preference), all with the same nonce, so that a client may answer any of them. SIP.js 0.21
   * and JsSIP 3 only do MD5 and abort on any other algorithm, yet work: their parsers keep the
   * LAST WWW-Authenticate/Proxy-Authenticate of a response (setHeader, not addHeader), which is
   * MD5 here. A client that reads only the first and knows only MD5 works too when it answers
   * with algorithm=MD5, the nonce being the same (test/digest-replay.test.ts checks both kinds).
   */
  challenges(options: { stale?: boolean; connection?: string } = {}): string[] {
    const nonce = this.newNonce(options.connection);
    return (Object.keys(ALGORITHMS) as Algorithm[]).map(
      (algorithm) =>
        `Digest realm="${this.realm}", nonce="${nonce}", algorithm=${algorithm}, qop="auth"${options.stale ? ', stale=true' : ''}`,
    );
  }

  /** The parts of a nonce this gateway signed, or undefined for one it did not. */
  #nonce(nonce: string): { issued: number; tag: string } | undefined {
    const [issued, tag, signature, extra] = nonce.split('.');
    if (!issued || !tag || !signature || extra !== undefined) return undefined;
    const expected = Buffer.from(this.#mac(`${issued}.${tag}`, 22));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    return { issued: Number.parseInt(issued, 36), tag };
  }

  /**
   * Checks an Authorization or Proxy-Authorization value for a request with `method`: a right
   * answer to a fresh nonce of this gateway's, issued to any connection. Stateless; the SIP
   * server calls `authenticate`, which adds what ties the answer to one request.
   */
  verify(method: string, authorization: string): DigestResult {
    return this.#verify(method, authorization).result;
  }

  #verify(method: string, authorization: string): { result: DigestResult; guess?: 'user' | 'password' } {
    const p = parseDigestParams(authorization);
    if (!p) return { result: refused('not a Digest credential') };
    const algorithm = (p.algorithm ?? 'MD5').toUpperCase() as Algorithm;
    if (!(algorithm in ALGORITHMS)) return { result: refused(`algorithm ${p.algorithm} not supported`) };
    const { username, realm, nonce, uri, response } = p;
    if (!username || !nonce || !uri || !response) return { result: refused('incomplete credential') };
    if (username.length > MAX_USERNAME_LENGTH)
      return { result: refused(`username longer than ${MAX_USERNAME_LENGTH} characters`) };
    if (realm !== this.realm) return { result: refused(`wrong realm ${realm}`) };
    const issued = this.#nonce(nonce);
    if (!issued) return { result: refused('nonce not issued here') };
    const found = this.credentials.lookup(username, this.now());
    if (!found) return { result: refused(`unknown or expired username ${username}`), guess: 'user' };
    const expected = digestResponse(
      algorithm,
      { username, realm, password: found.password, method, uri, nonce },
      p.qop === 'auth' ? { nc: p.nc ?? '', cnonce: p.cnonce ?? '' } : undefined,
    );
    const a = Buffer.from(expected);
    const b = Buffer.from(response.toLowerCase());
    if (a.length !== b.length || !timingSafeEqual(a, b))
      return { result: refused('wrong password'), guess: 'password' };
    // A correct answer to an old nonce: ask again with stale=true so the client retries silently.
    if (this.now() - issued.issued > NONCE_LIFETIME_MS) return { result: refused('nonce expired', true) };
    return { result: { ok: true, user: found.user, username } };
  }

  /**
   * Checks a credential for one request on one connection: `verify`, and that its `uri` is the
   * Request-URI, that its nonce was issued to this connection, and that its nonce-count is above
   * every one accepted for that nonce — so that an Authorization copied from one REGISTER is
   * worth nothing in another, on another connection, with another Contact. A right answer that
   * fails the last two gets a fresh challenge (stale=true): an honest client that reconnected
   * retries without asking its user, and a replayer cannot answer it. Wrong passwords are counted
   * per username and address; past the limits (accounts/password-guesses.ts) a credential is
   * refused unchecked, with the time to wait.
   */
  authenticate(request: DigestRequest, authorization: string): DigestResult {
    const p = parseDigestParams(authorization);
    if (!p) return refused('not a Digest credential');
    if (p.uri !== undefined && p.uri !== request.uri)
      return refused(`credential uri ${p.uri.slice(0, 100)} is not the Request-URI`);
    const count = nonceCount(p);
    if (count === undefined) return refused(`qop ${p.qop} without an 8-digit nc and a cnonce`);
    const username = p.username?.slice(0, MAX_USERNAME_LENGTH + 1);
    const admission = this.guesses.admit(username, request.address);
    if (!admission.ok) {
      return {
        ok: false,
        stale: false,
        reason: `too many wrong passwords ${admission.limit === 'account' ? 'for this user' : 'from this address'}`,
        retryAfterMs: admission.retryAfterMs,
      };
    }
    const { result, guess } = this.#verify(request.method, authorization);
    if (guess) this.guesses.failed(guess === 'password' ? username : undefined, request.address);
    if (!result.ok) return result;
    const nonce = this.#nonce(p.nonce as string) as { issued: number; tag: string };
    if (nonce.tag !== this.#connectionTag(request.connection))
      return refused('nonce issued to another connection', true);
    if (!this.#counts.advance(p.nonce as string, count, nonce.issued + NONCE_LIFETIME_MS, this.now()))
      return refused(`nonce count ${p.nc ?? '(none)'} not above the last one: a replay`, true);
    return result;
  }
}

/**
 * The nonce-count of a credential: its `nc` with qop=auth; 0 without qop (RFC 2069 clients), so
 * that such a nonce is good for one answer; undefined when qop=auth comes without a usable nc.
 */
function nonceCount(p: Record<string, string>): number | undefined {
  if (p.qop === undefined) return 0;
  if (p.qop !== 'auth' || !/^[0-9a-f]{8}$/i.test(p.nc ?? '') || !p.cnonce) return undefined;
  return Number.parseInt(p.nc as string, 16);
}
