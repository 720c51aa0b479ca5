import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { CredentialSource } from './credentials.js';

/**
 * SIP digest authentication (RFC 3261 §22.4, RFC 8760 for SHA-256) with stateless nonces: a
 * nonce is its issue time signed with a key derived from the operator's secret
 * (config/server-keys.ts), so that thousands of clients can be challenged without keeping a
 * table, and gateways sharing the secret accept each other's nonces.
 */
const ALGORITHMS = { 'SHA-256': 'sha256', MD5: 'md5' } as const;
type Algorithm = keyof typeof ALGORITHMS;
const NONCE_LIFETIME_MS = 5 * 60 * 1000;

export type DigestResult =
  | { ok: true; user: string; username: string }
  | { ok: false; stale: boolean; reason: string };

function hash(algorithm: Algorithm, text: string): string {
  return createHash(ALGORITHMS[algorithm]).update(text).digest('hex');
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
  constructor(
    readonly realm: string,
    readonly credentials: CredentialSource,
    readonly nonceKey: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  #sign(issued: string): string {
    return createHmac('sha256', this.nonceKey).update(issued).digest('base64url').slice(0, 22);
  }

  newNonce(): string {
    const issued = this.now().toString(36);
    return `${issued}.${this.#sign(issued)}`;
  }

  /** Challenge header values, strongest first (RFC 8760 §2.4 asks for one per algorithm). */
  challenges(stale = false): string[] {
    const nonce = this.newNonce();
    return (Object.keys(ALGORITHMS) as Algorithm[]).map(
      (algorithm) =>
        `Digest realm="${this.realm}", nonce="${nonce}", algorithm=${algorithm}, qop="auth"${stale ? ', stale=true' : ''}`,
    );
  }

  #nonceState(nonce: string): 'valid' | 'stale' | 'forged' {
    const [issued, signature] = nonce.split('.');
    if (!issued || !signature) return 'forged';
    const expected = Buffer.from(this.#sign(issued));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'forged';
    return this.now() - Number.parseInt(issued, 36) > NONCE_LIFETIME_MS ? 'stale' : 'valid';
  }

  /** Checks an Authorization or Proxy-Authorization value for a request with `method`. */
  verify(method: string, authorization: string): DigestResult {
    const p = parseDigestParams(authorization);
    if (!p) return { ok: false, stale: false, reason: 'not a Digest credential' };
    const algorithm = (p.algorithm ?? 'MD5').toUpperCase() as Algorithm;
    if (!(algorithm in ALGORITHMS))
      return { ok: false, stale: false, reason: `algorithm ${p.algorithm} not supported` };
    const { username, realm, nonce, uri, response } = p;
    if (!username || !nonce || !uri || !response)
      return { ok: false, stale: false, reason: 'incomplete credential' };
    if (realm !== this.realm) return { ok: false, stale: false, reason: `wrong realm ${realm}` };
    const nonceState = this.#nonceState(nonce);
    if (nonceState === 'forged') return { ok: false, stale: false, reason: 'nonce not issued here' };
    const found = this.credentials.lookup(username, this.now());
    if (!found) return { ok: false, stale: false, reason: `unknown or expired username ${username}` };
    const ha1 = hash(algorithm, `${username}:${realm}:${found.password}`);
    const ha2 = hash(algorithm, `${method}:${uri}`);
    const expected =
      p.qop === 'auth'
        ? hash(algorithm, `${ha1}:${nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:auth:${ha2}`)
        : hash(algorithm, `${ha1}:${nonce}:${ha2}`);
    const a = Buffer.from(expected);
    const b = Buffer.from(response.toLowerCase());
    if (a.length !== b.length || !timingSafeEqual(a, b))
      return { ok: false, stale: false, reason: 'wrong password' };
    // A correct answer to an old nonce: ask again with stale=true so the client retries silently.
    if (nonceState === 'stale') return { ok: false, stale: true, reason: 'nonce expired' };
    return { ok: true, user: found.user, username };
  }
}
