import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { parseDigestParams } from '../src/sip/auth/digest.js';
import { digestAuthorization } from '../src/sip/upstream/digest-client.js';

// The gateway answering an upstream's challenge itself (unregister-on-close.ts): checked against
// RFC 2617's formula computed here independently.
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const credential = { username: '1900000000:alice', password: 'c2VjcmV0' };
const request = { method: 'REGISTER', uri: 'sip:ringway.test' };

describe('digestAuthorization', () => {
  it('answers a qop=auth MD5 challenge as RFC 2617 computes it', () => {
    const challenge = 'Digest realm="ringway.test", nonce="abc123", qop="auth", opaque="op"';
    const answer = parseDigestParams(digestAuthorization(challenge, request, credential) ?? '');
    const ha1 = md5(`${credential.username}:ringway.test:${credential.password}`);
    const ha2 = md5('REGISTER:sip:ringway.test');
    expect(answer).toMatchObject({ username: credential.username, realm: 'ringway.test', uri: request.uri });
    expect(answer?.response).toBe(md5(`${ha1}:abc123:${answer?.nc}:${answer?.cnonce}:auth:${ha2}`));
    expect(answer?.opaque).toBe('op');
  });

  it('answers a challenge without qop (RFC 2069 form)', () => {
    const answer = parseDigestParams(
      digestAuthorization('Digest realm="r", nonce="n"', request, credential) ?? '',
    );
    const ha1 = md5(`${credential.username}:r:${credential.password}`);
    expect(answer?.response).toBe(md5(`${ha1}:n:${md5('REGISTER:sip:ringway.test')}`));
    expect(answer?.qop).toBeUndefined();
  });

  it('declines what it cannot answer', () => {
    expect(digestAuthorization('Basic realm="r"', request, credential)).toBeUndefined();
    expect(
      digestAuthorization('Digest realm="r", nonce="n", algorithm=AKAv1-MD5', request, credential),
    ).toBeUndefined();
    expect(
      digestAuthorization('Digest realm="r", nonce="n", qop="auth-int"', request, credential),
    ).toBeUndefined();
  });
});
