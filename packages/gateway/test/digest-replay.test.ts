import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { serverKeys } from '../src/config/server-keys.js';
import { ephemeralCredentials, issueEphemeralCredential } from '../src/sip/auth/credentials.js';
import { DigestAuthenticator, parseDigestParams } from '../src/sip/auth/digest.js';
import { NonceCounts } from '../src/sip/auth/nonce-counts.js';
import { header, type SipResponse } from '../src/sip/message.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';

/**
 * An Authorization value computed as a client does, from one challenge and on its own (not with
 * the gateway's code): `algorithm` is what the client hashes with and names.
 */
function answer(
  challenge: string,
  request: { method: string; uri: string },
  credential: { username: string; password: string },
  options: { algorithm?: 'MD5' | 'SHA-256'; nc?: number; cnonce?: string } = {},
): string {
  const algorithm = options.algorithm ?? 'MD5';
  const param = (name: string) => new RegExp(`${name}="([^"]*)"`, 'i').exec(challenge)?.[1];
  const realm = param('realm') as string;
  const nonce = param('nonce') as string;
  const hash = (text: string) =>
    createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
      .update(text)
      .digest('hex');
  const nc = (options.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = options.cnonce ?? 'c0ffee';
  const ha1 = hash(`${credential.username}:${realm}:${credential.password}`);
  const ha2 = hash(`${request.method}:${request.uri}`);
  const response = hash(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${credential.username}", realm="${realm}", nonce="${nonce}", uri="${request.uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

const SECRET = 'digest-replay-test-secret-0123456789';
const CAROL = { username: 'carol', password: 'carols-password' };
const AOR = 'sip:carol@ringway.test';
const REGISTER = { method: 'REGISTER', uri: 'sip:ringway.test' };
const usersFile = join(mkdtempSync(join(tmpdir(), 'ringway-replay-')), 'users.json');
writeFileSync(usersFile, JSON.stringify({ carol: CAROL.password }));

let gateway: RunningGateway;
const clients: RawSipClient[] = [];

async function connect(): Promise<RawSipClient> {
  const client = await RawSipClient.connect(gateway.wsUrl);
  clients.push(client);
  return client;
}

/** A REGISTER of carol's with `contact`, and the response to it. */
async function register(
  client: RawSipClient,
  contact: string,
  options: { authorization?: string; uri?: string; cseq?: number } = {},
): Promise<SipResponse> {
  const uri = options.uri ?? REGISTER.uri;
  client.send(
    sipRequest('REGISTER', uri, {
      from: AOR,
      to: AOR,
      callId: `reg-${contact}`,
      cseq: options.cseq ?? 1,
      extra: [
        `Contact: <${contact}>`,
        ...(options.authorization ? [`Authorization: ${options.authorization}`] : []),
      ],
    }),
  );
  return (await client.next((m) => m.kind === 'response')) as SipResponse;
}

/** Carol's contacts at `host` (each test registers its own). */
const contactsOfCarol = (host: string) =>
  gateway.app.sip.location
    .lookup(AOR)
    .map((b) => b.contact)
    .filter((contact) => contact.endsWith(`@${host}`));

beforeAll(async () => {
  gateway = await startGateway({ AUTH_SECRET: SECRET, USERS_FILE: usersFile });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(async () => {
  await gateway.close();
});

describe('a REGISTER Authorization used again', () => {
  it('from another connection with another Contact gets a fresh challenge (stale), and the AoR keeps its contact', async () => {
    const owner = await connect();
    const challenge = await register(owner, 'sip:carol-phone@one.invalid');
    expect(challenge.status).toBe(401);
    const authorization = answer(header(challenge, 'WWW-Authenticate') as string, REGISTER, CAROL);
    const ok = await register(owner, 'sip:carol-phone@one.invalid', { authorization, cseq: 2 });
    expect(ok.status).toBe(200);

    const thief = await connect();
    const replayed = await register(thief, 'sip:thief@one.invalid', { authorization, cseq: 3 });
    expect(replayed.status).toBe(401);
    expect(header(replayed, 'WWW-Authenticate')).toMatch(/stale=true/);
    expect(contactsOfCarol('one.invalid')).toEqual(['sip:carol-phone@one.invalid']);
  });

  it('on the same connection, with the same nonce-count, gets a fresh challenge; the next count is taken', async () => {
    const client = await connect();
    const challenge = header(await register(client, 'sip:one@two.invalid'), 'WWW-Authenticate') as string;
    const first = answer(challenge, REGISTER, CAROL, { nc: 1 });
    expect((await register(client, 'sip:one@two.invalid', { authorization: first, cseq: 2 })).status).toBe(
      200,
    );

    const again = await register(client, 'sip:two@two.invalid', { authorization: first, cseq: 3 });
    expect(again.status).toBe(401);
    expect(header(again, 'WWW-Authenticate')).toMatch(/stale=true/);
    expect(contactsOfCarol('two.invalid')).toEqual(['sip:one@two.invalid']);

    const second = answer(challenge, REGISTER, CAROL, { nc: 2, cnonce: 'c0ffee2' });
    const next = await register(client, 'sip:two@two.invalid', { authorization: second, cseq: 4 });
    expect(next.status).toBe(200);
  });

  it('for another Request-URI is refused: the credential names the request it was made for', async () => {
    const client = await connect();
    const challenge = header(await register(client, 'sip:x@three.invalid'), 'WWW-Authenticate') as string;
    const forOther = answer(challenge, { method: 'REGISTER', uri: 'sip:other.test' }, CAROL);
    const refused = await register(client, 'sip:x@three.invalid', { authorization: forOther, cseq: 2 });
    expect(refused.status).toBe(401);
    expect(header(refused, 'WWW-Authenticate')).not.toMatch(/stale=true/);
    expect(contactsOfCarol('three.invalid')).toEqual([]);
  });
});

describe('the order of the challenges', () => {
  it('offers SHA-256 first and MD5 last, with one nonce: SIP.js and JsSIP keep the last header', async () => {
    const client = await connect();
    const challenge = await register(client, 'sip:order@owner.invalid');
    const values = challenge.headers.filter((h) => h.name === 'WWW-Authenticate').map((h) => h.value);
    expect(values).toEqual([
      expect.stringMatching(/algorithm=SHA-256/),
      expect.stringMatching(/algorithm=MD5/),
    ]);
    const nonces = values.map((v) => parseDigestParams(v)?.nonce);
    expect(nonces[0]).toBe(nonces[1]);
  });

  it.each([
    ['MD5 (a client that knows no other)', 'MD5'],
    ['SHA-256 (the algorithm it names)', 'SHA-256'],
  ] as const)(
    'registers a client that reads only the first challenge and answers with %s',
    async (_, algorithm) => {
      const client = await connect();
      const challenge = await register(client, `sip:first-${algorithm}@owner.invalid`);
      const first = challenge.headers.find((h) => h.name === 'WWW-Authenticate')?.value as string;
      const authorization = answer(first, REGISTER, CAROL, { algorithm });
      const ok = await register(client, `sip:first-${algorithm}@owner.invalid`, { authorization, cseq: 2 });
      expect(ok.status).toBe(200);
    },
  );
});

describe('DigestAuthenticator.authenticate', () => {
  const KEY = serverKeys(ephemeralCredentials(SECRET))('digest-nonce');
  const credential = issueEphemeralCredential(SECRET, 'alice', 3600, 1_000_000);
  const alice = { username: credential.username, password: credential.password };
  const on = (connection: string) => ({ ...REGISTER, connection, address: '192.0.2.1' });
  const authenticator = (clock: { now: number }) =>
    new DigestAuthenticator('ringway.test', ephemeralCredentials(SECRET), KEY, () => clock.now);
  const challengeFor = (a: DigestAuthenticator, connection: string) =>
    a.challenges({ connection }).at(-1) as string;

  it('takes a nonce on the connection it was issued to, and on another asks again (stale) before checking the count', () => {
    const clock = { now: 1_000_000 };
    const a = authenticator(clock);
    const authorization = answer(challengeFor(a, 'flow-1'), REGISTER, alice);
    expect(a.authenticate(on('flow-2'), authorization)).toEqual({
      ok: false,
      stale: true,
      reason: 'nonce issued to another connection',
    });
    expect(a.authenticate(on('flow-1'), authorization)).toMatchObject({ ok: true, user: 'alice' });
  });

  it('takes a nonce of another worker sharing the secret, for the same connection', () => {
    const clock = { now: 1_000_000 };
    const authorization = answer(challengeFor(authenticator(clock), 'flow-1'), REGISTER, alice);
    expect(authenticator(clock).authenticate(on('flow-1'), authorization)).toMatchObject({ ok: true });
  });

  it('without qop takes one answer per nonce', () => {
    const clock = { now: 1_000_000 };
    const a = authenticator(clock);
    const nonce = parseDigestParams(challengeFor(a, 'flow-1'))?.nonce as string;
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const response = md5(
      `${md5(`${alice.username}:ringway.test:${alice.password}`)}:${nonce}:${md5('REGISTER:sip:ringway.test')}`,
    );
    const authorization = `Digest username="${alice.username}", realm="ringway.test", nonce="${nonce}", uri="sip:ringway.test", response="${response}"`;
    expect(a.authenticate(on('flow-1'), authorization)).toMatchObject({ ok: true });
    expect(a.authenticate(on('flow-1'), authorization)).toMatchObject({ ok: false, stale: true });
  });

  it('refuses qop=auth without an 8-digit nc', () => {
    const a = authenticator({ now: 1_000_000 });
    const authorization = answer(challengeFor(a, 'flow-1'), REGISTER, alice).replace('nc=00000001', 'nc=1');
    expect(a.authenticate(on('flow-1'), authorization)).toMatchObject({ ok: false, stale: false });
  });
});

describe('NonceCounts', () => {
  it('takes only rising counts per nonce, and forgets nonces past their lifetime and past its size', () => {
    const counts = new NonceCounts(2);
    expect(counts.advance('a', 1, 1000, 0)).toBe(true);
    expect(counts.advance('a', 1, 1000, 0)).toBe(false);
    expect(counts.advance('a', 3, 1000, 0)).toBe(true);
    expect(counts.advance('a', 2, 1000, 0)).toBe(false);
    // Past its size, the oldest goes first: 'a', then 'b'.
    expect(counts.advance('b', 1, 5000, 10)).toBe(true);
    expect(counts.advance('c', 1, 5000, 10)).toBe(true);
    expect(counts.advance('a', 1, 1000, 10)).toBe(true);
    expect(counts.advance('c', 1, 5000, 10)).toBe(false);
    // Past their lifetime, 'c' and 'a' go (their nonces would be answered stale anyway).
    expect(counts.advance('d', 1, 9000, 6000)).toBe(true);
    expect(counts.advance('c', 1, 9000, 6000)).toBe(true);
  });
});
