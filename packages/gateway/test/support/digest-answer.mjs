import { createHash } from 'node:crypto';

/**
 * An Authorization value answering an MD5 digest challenge, computed as a SIP client does
 * (RFC 2617, qop=auth) — on its own, not with the gateway's code, so the tests check that code.
 */
export function digestAnswer(challenge, request, credential) {
  const param = (name) => new RegExp(`${name}="([^"]*)"`, 'i').exec(challenge)?.[1];
  const realm = param('realm');
  const nonce = param('nonce');
  if (!realm || !nonce) throw new Error(`not a digest challenge: ${challenge}`);
  const md5 = (text) => createHash('md5').update(text).digest('hex');
  const ha1 = md5(`${credential.username}:${realm}:${credential.password}`);
  const ha2 = md5(`${request.method}:${request.uri}`);
  const response = md5(`${ha1}:${nonce}:00000001:c0ffee:auth:${ha2}`);
  return `Digest username="${credential.username}", realm="${realm}", nonce="${nonce}", uri="${request.uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`;
}
