import { createHash, randomBytes } from 'node:crypto';
import { parseDigestParams } from '../auth/digest.js';

const ALGORITHMS = { MD5: 'md5', 'SHA-256': 'sha256' } as const;

/**
 * The client side of SIP digest (RFC 3261 §22.4, RFC 2617, RFC 8760): the Authorization value
 * answering `challenge` (a WWW-Authenticate or Proxy-Authenticate value) for a request of
 * `method` to `uri`. MD5 or SHA-256, `qop=auth` when offered, none otherwise; undefined for a
 * challenge it cannot answer (another scheme or algorithm, `auth-int` only, no nonce). The
 * challenge is parsed by the gateway's own digest code (auth/digest.ts).
 */
export function digestAuthorization(
  challenge: string,
  request: { method: string; uri: string },
  credential: { username: string; password: string },
): string | undefined {
  const params = parseDigestParams(challenge);
  if (!params?.nonce || params.realm === undefined) return undefined;
  const algorithm = (params.algorithm ?? 'MD5').toUpperCase();
  if (!(algorithm in ALGORITHMS)) return undefined;
  const name = ALGORITHMS[algorithm as keyof typeof ALGORITHMS];
  const h = (text: string) => createHash(name).update(text).digest('hex');
  const qops = params.qop?.split(',').map((q) => q.trim().toLowerCase());
  if (qops && !qops.includes('auth')) return undefined;
  const ha1 = h(`${credential.username}:${params.realm}:${credential.password}`);
  const ha2 = h(`${request.method}:${request.uri}`);
  const quote = (text: string) => `"${text.replace(/(["\\])/g, '\\$1')}"`;
  const fields = [
    `username=${quote(credential.username)}`,
    `realm=${quote(params.realm)}`,
    `nonce=${quote(params.nonce)}`,
    `uri=${quote(request.uri)}`,
  ];
  if (qops) {
    const cnonce = randomBytes(8).toString('hex');
    const nc = '00000001';
    fields.push(
      `response=${quote(h(`${ha1}:${params.nonce}:${nc}:${cnonce}:auth:${ha2}`))}`,
      'qop=auth',
      `nc=${nc}`,
      `cnonce=${quote(cnonce)}`,
    );
  } else {
    fields.push(`response=${quote(h(`${ha1}:${params.nonce}:${ha2}`))}`);
  }
  fields.push(`algorithm=${algorithm}`);
  if (params.opaque !== undefined) fields.push(`opaque=${quote(params.opaque)}`);
  return `Digest ${fields.join(', ')}`;
}
