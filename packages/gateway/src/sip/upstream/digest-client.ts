import { randomBytes } from 'node:crypto';
import { digestResponse, isDigestAlgorithm, parseDigestParams } from '../auth/digest.js';

/**
 * The client side of SIP digest (RFC 3261 §22.4, RFC 2617, RFC 8760): the Authorization value
 * answering `challenge` (a WWW-Authenticate or Proxy-Authenticate value) for a request of
 * `method` to `uri`. MD5 or SHA-256, `qop=auth` when offered, none otherwise; undefined for a
 * challenge it cannot answer (another scheme or algorithm, `auth-int` only, no nonce). The
 * challenge is parsed, and the response computed, by the gateway's own digest code (auth/digest.ts).
 */
export function digestAuthorization(
  challenge: string,
  request: { method: string; uri: string },
  credential: { username: string; password: string },
): string | undefined {
  const params = parseDigestParams(challenge);
  if (!params?.nonce || params.realm === undefined) return undefined;
  const algorithm = (params.algorithm ?? 'MD5').toUpperCase();
  if (!isDigestAlgorithm(algorithm)) return undefined;
  const qops = params.qop?.split(',').map((q) => q.trim().toLowerCase());
  if (qops && !qops.includes('auth')) return undefined;
  const answered = { ...credential, realm: params.realm, nonce: params.nonce, ...request };
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
      `response=${quote(digestResponse(algorithm, answered, { nc, cnonce }))}`,
      'qop=auth',
      `nc=${nc}`,
      `cnonce=${quote(cnonce)}`,
    );
  } else {
    fields.push(`response=${quote(digestResponse(algorithm, answered))}`);
  }
  fields.push(`algorithm=${algorithm}`);
  if (params.opaque !== undefined) fields.push(`opaque=${quote(params.opaque)}`);
  return `Digest ${fields.join(', ')}`;
}
