import { createHash } from 'node:crypto';
import { parseDigestParams } from '../../src/sip/auth/digest.js';

/** An Authorization value answering an MD5 digest challenge, as a SIP client computes it (RFC 2617). */
export function digestAnswer(
  challenge: string,
  request: { method: string; uri: string },
  credential: { username: string; password: string },
): string {
  const params = parseDigestParams(challenge);
  if (!params?.nonce || !params.realm) throw new Error(`not a digest challenge: ${challenge}`);
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const ha1 = md5(`${credential.username}:${params.realm}:${credential.password}`);
  const ha2 = md5(`${request.method}:${request.uri}`);
  const response = md5(`${ha1}:${params.nonce}:00000001:c0ffee:auth:${ha2}`);
  return `Digest username="${credential.username}", realm="${params.realm}", nonce="${params.nonce}", uri="${request.uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`;
}
