import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { addressKey, type DEFAULT_GUESS_LIMITS, PasswordGuesses } from '../src/accounts/password-guesses.js';
import { header, type SipMessage, type SipResponse } from '../src/sip/message.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';
import { addUser } from './support/users.js';

const SECRET = 'auth-limits-test-secret-0123456789';
const CAROL_PASSWORD = 'carols-device-password';

/** A gateway whose USERS_FILE has carol (a SIP device) and alice (who signs in with a password). */
async function gatewayWithUsers(): Promise<RunningGateway> {
  const usersFile = join(mkdtempSync(join(tmpdir(), 'ringway-limits-')), 'users.json');
  writeFileSync(usersFile, JSON.stringify({ carol: CAROL_PASSWORD }), { mode: 0o600 });
  addUser(usersFile, 'alice', 'alices-password-1');
  return startGateway({ AUTH_SECRET: SECRET, USERS_FILE: usersFile });
}

const running: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const thing of running.splice(0).reverse()) await thing.close();
});

async function started(): Promise<RunningGateway> {
  const gateway = await gatewayWithUsers();
  running.push(gateway);
  return gateway;
}

async function connect(gateway: RunningGateway): Promise<RawSipClient> {
  const client = await RawSipClient.connect(gateway.wsUrl);
  running.push(client);
  return client;
}

/** The Authorization of an MD5 digest answer (qop=auth), computed as a client does. */
function answer(challenge: string, password: string, nc: number): string {
  const nonce = /nonce="([^"]*)"/.exec(challenge)?.[1] as string;
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const count = nc.toString(16).padStart(8, '0');
  const ha1 = md5(`carol:ringway.test:${password}`);
  const response = md5(`${ha1}:${nonce}:${count}:c${nc}:auth:${md5('REGISTER:sip:ringway.test')}`);
  return `Digest username="carol", realm="ringway.test", nonce="${nonce}", uri="sip:ringway.test", response="${response}", algorithm=MD5, qop=auth, nc=${count}, cnonce="c${nc}"`;
}

/** Carol's REGISTER on `client`, with `authorization` if given, and the response to it. */
async function register(client: RawSipClient, cseq: number, authorization?: string): Promise<SipResponse> {
  client.send(
    sipRequest('REGISTER', 'sip:ringway.test', {
      from: 'sip:carol@ringway.test',
      to: 'sip:carol@ringway.test',
      callId: 'limits-carol',
      cseq,
      extra: [
        'Contact: <sip:carol@limits.invalid;transport=ws>',
        ...(authorization ? [`Authorization: ${authorization}`] : []),
      ],
    }),
  );
  const isAnswer = (m: SipMessage) => m.kind === 'response' && header(m, 'CSeq') === `${cseq} REGISTER`;
  return (await client.next(isAnswer)) as SipResponse;
}

/** Guesses carol's SIP password `times` times on one challenge, as a guesser does; the statuses. */
async function guessOverSip(client: RawSipClient, times: number, firstCseq = 1): Promise<number[]> {
  const challenge = header(await register(client, firstCseq), 'WWW-Authenticate') as string;
  const statuses: number[] = [];
  for (let i = 1; i <= times; i++)
    statuses.push((await register(client, firstCseq + i, answer(challenge, `guess-${i}`, i))).status);
  return statuses;
}

function signIn(gateway: RunningGateway, user: string, password: string, remoteAddress: string) {
  return gateway.app.inject({
    method: 'POST',
    url: '/api/sign-in',
    payload: { user, password },
    remoteAddress,
  });
}

/** `times` wrong sign-in passwords for `user` from `remoteAddress`; the statuses. */
async function guessSignIn(gateway: RunningGateway, user: string, remoteAddress: string, times: number) {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++)
    statuses.push((await signIn(gateway, user, `guess-${i}`, remoteAddress)).statusCode);
  return statuses;
}

describe('wrong SIP digest passwords', () => {
  it('from one address: ten are checked, then 503 with Retry-After, unchecked even when right', async () => {
    const gateway = await started();
    const client = await connect(gateway);
    const statuses = await guessOverSip(client, 12);
    expect(statuses).toEqual([...Array(10).fill(401), 503, 503]);

    const challenge = header(await register(client, 20), 'WWW-Authenticate') as string;
    const right = await register(client, 21, answer(challenge, CAROL_PASSWORD, 1));
    expect(right.status).toBe(503);
    expect(Number(header(right, 'Retry-After'))).toBeGreaterThanOrEqual(1);
    expect(header(right, 'Warning')).toMatch(/too many wrong passwords; retry in \d+ s/);
    expect(gateway.app.sip.location.lookup('sip:carol@ringway.test')).toEqual([]);
  });

  it('count for the sign-in form: guesses over SIP and over the form add up for the account', async () => {
    const gateway = await started();
    // 10.0.0.1 fails once: it is suspect from now on, but far from its own limit.
    expect(await guessSignIn(gateway, 'carol', '10.0.0.1', 1)).toEqual([401]);
    expect(await guessSignIn(gateway, 'carol', '10.0.0.2', 9)).toEqual(Array(9).fill(401));
    // Ten more over SIP (from 127.0.0.1) bring carol to twenty.
    expect(await guessOverSip(await connect(gateway), 10)).toEqual(Array(10).fill(401));

    const fromSuspect = await signIn(gateway, 'carol', CAROL_PASSWORD, '10.0.0.1');
    expect(fromSuspect.statusCode).toBe(429);
    expect(Number(fromSuspect.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Not a lock-out: the right password from an address that has not failed still signs in.
    expect((await signIn(gateway, 'carol', CAROL_PASSWORD, '10.0.0.3')).statusCode).toBe(200);
  });

  it('are refused unchecked when the sign-in form has had too many for the account', async () => {
    const gateway = await started();
    const client = await connect(gateway);
    // 127.0.0.1 fails once over SIP: suspect, far from its own limit.
    expect(await guessOverSip(client, 1)).toEqual([401]);
    expect(await guessSignIn(gateway, 'carol', '10.0.1.1', 10)).toEqual(Array(10).fill(401));
    expect(await guessSignIn(gateway, 'carol', '10.0.1.2', 9)).toEqual(Array(9).fill(401));

    const challenge = header(await register(client, 10), 'WWW-Authenticate') as string;
    const right = await register(client, 11, answer(challenge, CAROL_PASSWORD, 1));
    expect(right.status).toBe(503);
  });
});

describe('POST /api/sign-in per account', () => {
  it('wrong passwords from many addresses, each under its own limit: the account is slowed down (429)', async () => {
    const gateway = await started();
    const statuses: number[] = [];
    for (const [address, times] of [
      ['10.1.0.1', 10],
      ['10.1.0.2', 10],
      ['10.1.0.3', 9],
      ['10.1.0.4', 9],
    ] as const)
      statuses.push(...(await guessSignIn(gateway, 'alice', address, times)));
    // Twenty checked from the first two; the next two get one each (they had not failed), then 429.
    expect(statuses.filter((s) => s === 401)).toHaveLength(22);
    expect(statuses.slice(20)).toEqual([401, ...Array(8).fill(429), 401, ...Array(8).fill(429)]);

    const refused = await signIn(gateway, 'alice', 'alices-password-1', '10.1.0.4');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ error: expect.stringMatching(/too many wrong passwords/) });
    expect((await signIn(gateway, 'alice', 'alices-password-1', '10.1.0.5')).statusCode).toBe(200);
  });
});

describe('PasswordGuesses', () => {
  const clocked = (overrides: Partial<typeof DEFAULT_GUESS_LIMITS> = {}) => {
    const clock = { now: 1_000_000 };
    return { clock, guesses: new PasswordGuesses({ ...overrides, now: () => clock.now }) };
  };

  it('lets an address fail ten times, then delays it 5 s, 10 s, 20 s ... and forgets as it stops', () => {
    const { clock, guesses } = clocked();
    for (let i = 0; i < 9; i++) guesses.failed(undefined, '192.0.2.7');
    expect(guesses.admit('anyone', '192.0.2.7')).toEqual({ ok: true });
    guesses.failed(undefined, '192.0.2.7');
    expect(guesses.admit('anyone', '192.0.2.7')).toEqual({ ok: false, retryAfterMs: 5000, limit: 'address' });
    expect(guesses.admit('anyone', '192.0.2.8')).toEqual({ ok: true });
    clock.now += 5000;
    guesses.failed(undefined, '192.0.2.7');
    expect(guesses.admit('anyone', '192.0.2.7')).toMatchObject({ ok: false, retryAfterMs: 10_000 });
    // Quiet for five minutes: ten failures forgotten (one per 30 s), back under the limit.
    clock.now += 5 * 60_000;
    guesses.failed(undefined, '192.0.2.7');
    expect(guesses.admit('anyone', '192.0.2.7')).toEqual({ ok: true });
  });

  it('counts an IPv6 /64 as one address, and an IPv4-mapped address as its IPv4 one', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:0db8:0001:0002:ffff:1:2:3'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('delays an account from addresses that failed recently, not from others, with a cap', () => {
    const { clock, guesses } = clocked();
    for (let i = 0; i < 20; i++) guesses.failed('carol', `198.51.100.${i}`);
    expect(guesses.admit('carol', '198.51.100.3')).toEqual({
      ok: false,
      retryAfterMs: 5000,
      limit: 'account',
    });
    expect(guesses.admit('carol', '203.0.113.1')).toEqual({ ok: true });
    expect(guesses.admit('dave', '198.51.100.3')).toEqual({ ok: true });
    for (let i = 0; i < 20; i++) guesses.failed('carol', `198.51.100.${100 + i}`);
    expect(guesses.admit('carol', '198.51.100.3')).toMatchObject({ retryAfterMs: 15 * 60_000 });
    clock.now += 14 * 60_000;
    expect(guesses.admit('carol', '198.51.100.3')).toMatchObject({ ok: false, retryAfterMs: 60_000 });
    expect(guesses.admit('carol', '203.0.113.1')).toEqual({ ok: true });
    clock.now += 60_000;
    expect(guesses.admit('carol', '198.51.100.3')).toEqual({ ok: true });
  });

  it('remembers at most maxEntries accounts and addresses, the least recently failed forgotten first', () => {
    const { guesses } = clocked({ maxEntries: 3 });
    for (let i = 0; i < 20; i++) guesses.failed('carol', '192.0.2.1');
    expect(guesses.admit('carol', '192.0.2.1')).toMatchObject({ ok: false });
    // Three accounts and addresses that failed since push carol and 192.0.2.1 out.
    for (const n of [2, 3, 4]) guesses.failed(`user${n}`, `192.0.2.${n}`);
    expect(guesses.admit('carol', '192.0.2.1')).toEqual({ ok: true });
  });
});
