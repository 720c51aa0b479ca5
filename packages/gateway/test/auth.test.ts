import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Inviter, UserAgent } from 'sip.js';
import { serverKeys } from '../src/config/server-keys.js';
import { ephemeralCredentials, issueEphemeralCredential } from '../src/sip/auth/credentials.js';
import { DigestAuthenticator, parseDigestParams } from '../src/sip/auth/digest.js';
import { header } from '../src/sip/message.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';
import { dial, type Phone, reached, SessionState, sipjsPhone } from './support/sipjs.js';

const SECRET = 'a-shared-secret-of-some-length';
let gateway: RunningGateway;
const phones: Phone[] = [];
const usersFile = join(mkdtempSync(join(tmpdir(), 'ringway-')), 'users.json');
writeFileSync(usersFile, JSON.stringify({ carol: 'carols-password' }));

async function phone(user: string, username: string, password: string): Promise<Phone> {
  const created = await sipjsPhone(gateway.wsUrl, user, {
    authorizationUsername: username,
    authorizationPassword: password,
  });
  phones.push(created);
  return created;
}

beforeAll(async () => {
  gateway = await startGateway({ AUTH_SECRET: SECRET, USERS_FILE: usersFile });
});
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop().catch(() => undefined)));
});
afterAll(async () => {
  await gateway.close();
});

describe('digest authentication at the gateway', () => {
  it('registers SIP.js with an ephemeral credential and lets it call a static user', async () => {
    const alice = issueEphemeralCredential(SECRET, 'alice', 60);
    const alicePhone = await phone('alice', alice.username, alice.password);
    const carolPhone = await phone('carol', 'carol', 'carols-password');
    const inviter = new Inviter(alicePhone.ua, UserAgent.makeURI('sip:carol@ringway.test') as never);
    dial(inviter);
    const invitation = await carolPhone.nextInvitation();
    await invitation.accept();
    await reached(inviter, SessionState.Established);
    await inviter.bye();
  });

  it('refuses a wrong password', async () => {
    await expect(phone('carol', 'carol', 'not-the-password')).rejects.toThrow(/REGISTER refused: 401/);
  });

  it('refuses an expired ephemeral credential', async () => {
    const expired = issueEphemeralCredential(SECRET, 'alice', -1);
    await expect(phone('alice', expired.username, expired.password)).rejects.toThrow(/REGISTER refused: 401/);
  });

  it('refuses a credential of one user registering another', async () => {
    const bob = issueEphemeralCredential(SECRET, 'bob', 60);
    await expect(phone('alice', bob.username, bob.password)).rejects.toThrow(/REGISTER refused: 403/);
  });

  it('refuses a request for a user that carries a made-up To tag: no dialog of ours', async () => {
    const client = await RawSipClient.connect(gateway.wsUrl);
    try {
      client.send(sipRequest('MESSAGE', 'sip:carol@ringway.test', { toTag: 'forged' }));
      const refusal = await client.response(403);
      expect(header(refusal, 'Warning')).toMatch(/not in a dialog this gateway routed/);
    } finally {
      client.close();
    }
  });

  it('challenges an unauthenticated INVITE with 407 and REGISTER with 401, offering SHA-256 and MD5', async () => {
    const client = await RawSipClient.connect(gateway.wsUrl);
    try {
      client.send(sipRequest('INVITE', 'sip:carol@ringway.test'));
      const challenge = await client.response(407);
      expect(challenge.headers.filter((h) => h.name === 'Proxy-Authenticate').map((h) => h.value)).toEqual([
        expect.stringMatching(/algorithm=SHA-256/),
        expect.stringMatching(/algorithm=MD5/),
      ]);
      client.send(sipRequest('REGISTER', 'sip:ringway.test', { extra: ['Contact: <sip:x@y.invalid>'] }));
      expect(header(await client.response(401), 'WWW-Authenticate')).toMatch(/^Digest realm="ringway.test"/);
    } finally {
      client.close();
    }
  });
});

describe('DigestAuthenticator', () => {
  const KEY = serverKeys(ephemeralCredentials(SECRET))('digest-nonce');
  const credential = issueEphemeralCredential(SECRET, 'alice', 3600, 1_000_000);
  const answer = (authenticator: DigestAuthenticator, algorithm: 'MD5' | 'SHA-256', password: string) => {
    const hash = (text: string) =>
      createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
        .update(text)
        .digest('hex');
    const nonce = parseDigestParams(authenticator.challenges()[0] as string)?.nonce as string;
    const ha1 = hash(`${credential.username}:ringway.test:${password}`);
    const ha2 = hash('REGISTER:sip:ringway.test');
    const response = hash(`${ha1}:${nonce}:00000001:abc:auth:${ha2}`);
    return `Digest username="${credential.username}", realm="ringway.test", nonce="${nonce}", uri="sip:ringway.test", response="${response}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="abc"`;
  };

  it.each(['MD5', 'SHA-256'] as const)('accepts a correct %s answer and names the user', (algorithm) => {
    const now = 1_000_000;
    const authenticator = new DigestAuthenticator(
      'ringway.test',
      ephemeralCredentials(SECRET),
      KEY,
      () => now,
    );
    const authorization = answer(authenticator, algorithm, credential.password);
    expect(authenticator.verify('REGISTER', authorization)).toEqual({
      ok: true,
      user: 'alice',
      username: credential.username,
    });
    expect(authenticator.verify('REGISTER', answer(authenticator, algorithm, 'guessed'))).toMatchObject({
      ok: false,
      reason: 'wrong password',
    });
  });

  it('says stale when a correct answer uses an old nonce', () => {
    let now = 1_000_000;
    const authenticator = new DigestAuthenticator(
      'ringway.test',
      ephemeralCredentials(SECRET),
      KEY,
      () => now,
    );
    const authorization = answer(authenticator, 'MD5', credential.password);
    now += 5 * 60 * 1000 + 1;
    expect(authenticator.verify('REGISTER', authorization)).toEqual({
      ok: false,
      stale: true,
      reason: 'nonce expired',
    });
  });

  it('accepts a nonce of another gateway sharing the secret', () => {
    const keys = () => serverKeys(ephemeralCredentials(SECRET))('digest-nonce');
    const one = new DigestAuthenticator(
      'ringway.test',
      ephemeralCredentials(SECRET),
      keys(),
      () => 1_000_000,
    );
    const other = new DigestAuthenticator(
      'ringway.test',
      ephemeralCredentials(SECRET),
      keys(),
      () => 1_000_000,
    );
    expect(other.verify('REGISTER', answer(one, 'MD5', credential.password))).toMatchObject({ ok: true });
  });

  it('refuses a nonce it did not issue', () => {
    const authenticator = new DigestAuthenticator(
      'ringway.test',
      ephemeralCredentials(SECRET),
      KEY,
      () => 1_000_000,
    );
    const other = new DigestAuthenticator(
      'ringway.test',
      ephemeralCredentials(SECRET),
      serverKeys(ephemeralCredentials('another-secret-of-some-length'))('digest-nonce'),
      () => 1_000_000,
    );
    expect(other.verify('REGISTER', answer(authenticator, 'MD5', credential.password))).toEqual({
      ok: false,
      stale: false,
      reason: 'nonce not issued here',
    });
  });
});
