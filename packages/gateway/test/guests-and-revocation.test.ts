import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { hashPassword } from '../src/accounts/password-hash.js';
import { SignIn } from '../src/accounts/sign-in.js';
import { type StoredEntry, UsersFile, writeUsers } from '../src/accounts/users-file.js';
import { loadConfig } from '../src/config/load-config.js';
import { guestRefusal } from '../src/sessions/guest-scope.js';
import { issueEphemeralCredential, revocationByUsersFile } from '../src/sip/auth/credentials.js';
import { header } from '../src/sip/message.js';
import { digestAnswer } from './support/digest-answer.mjs';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';

// Issue 22 §2 and §10 in embedded mode, with credentials as an operator runs it: call-link guests
// reach only their own call, and removing or changing a user ends what was handed out before.
const SECRET = 'guests-and-revocation-secret-0123456789';
const usersFile = join(mkdtempSync(join(tmpdir(), 'ringway-guests-')), 'users.json');
const PASSWORDS: Record<string, string> = {
  alice: 'alice-password-1',
  bob: 'bob-password-1',
  dave: 'dave-password-1',
};
const DESK_PHONE = { user: 'deskphone', password: 'desk-phone-digest-password' };
let gateway: RunningGateway;
const clients: RawSipClient[] = [];

interface Credentials {
  uri: string;
  authorizationUsername: string;
  authorizationPassword: string;
}
interface Grant {
  credentials: Credentials;
  renewToken: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
/**
 * The gateway looks at USERS_FILE at most once a second (users-file.ts): past that second, and
 * into the next whole second (credentials count time in seconds), it has read what was written.
 */
const fileReadAgain = () => new Promise((resolve) => setTimeout(resolve, 2000 - (Date.now() % 1000)));

/** Writes the users file as `npm run user` would: people added (at `changedAt`) and people removed. */
async function writePeople(people: Record<string, string>, changedAt?: number, removed: string[] = []) {
  const users = new Map<string, StoredEntry>([[DESK_PHONE.user, { sipPassword: DESK_PHONE.password }]]);
  for (const [user, password] of Object.entries(people))
    users.set(user, { passwordHash: await hashPassword(password), ...(changedAt ? { changedAt } : {}) });
  for (const user of removed) users.set(user, { removedAt: nowSeconds() });
  writeUsers(usersFile, users);
}

let clientAddresses = 0;
/** A POST from an address of its own, so that the sign-in's per-address limit is not what a test meets. */
function post(url: string, payload?: object, authorization?: string) {
  clientAddresses += 1;
  return gateway.app.inject({
    method: 'POST',
    url,
    remoteAddress: `127.0.${clientAddresses >> 8}.${clientAddresses & 255}`,
    ...(payload ? { payload } : {}),
    headers: authorization ? { authorization } : {},
  });
}

async function signIn(user: string, password = PASSWORDS[user] as string): Promise<Grant> {
  const reply = await post('/api/sign-in', { user, password });
  expect(reply.statusCode).toBe(200);
  return reply.json() as Grant;
}

async function connect(): Promise<RawSipClient> {
  const client = await RawSipClient.connect(gateway.wsUrl);
  clients.push(client);
  return client;
}

const userOf = (credentials: Credentials) =>
  (/^sip:([^@]+)@/.exec(credentials.uri) as RegExpExecArray)[1] as string;

/** REGISTERs the credentials' own address on `client`, answering the challenge; the final status. */
async function register(client: RawSipClient, credentials: Credentials): Promise<number> {
  const user = userOf(credentials);
  const base = {
    from: credentials.uri,
    to: credentials.uri,
    callId: `reg-${user}-${Math.random()}`,
    extra: [
      `Contact: <sip:${user.slice(0, 12)}@${Math.random().toString(36).slice(2)}.invalid;transport=ws>`,
    ],
  };
  client.send(sipRequest('REGISTER', 'sip:ringway.test', base));
  const challenge = await client.response(401);
  const authorization = digestAnswer(
    header(challenge, 'WWW-Authenticate') as string,
    { method: 'REGISTER', uri: 'sip:ringway.test' },
    { username: credentials.authorizationUsername, password: credentials.authorizationPassword },
  );
  client.send(
    sipRequest('REGISTER', 'sip:ringway.test', {
      ...base,
      cseq: 2,
      extra: [...base.extra, `Authorization: ${authorization}`],
    }),
  );
  const answer = await client.next((m) => m.kind === 'response' && m.status >= 200);
  return answer.kind === 'response' ? answer.status : 0;
}

async function registered(credentials: Credentials): Promise<RawSipClient> {
  const client = await connect();
  expect(await register(client, credentials)).toBe(200);
  return client;
}

/** Sends an initial request from `client` (a registered flow: no challenge) and returns its final status. */
async function finalStatus(
  client: RawSipClient,
  method: string,
  from: string,
  to: string,
  extra: string[] = [],
) {
  const callId = `${method}-${Math.random()}`;
  client.send(sipRequest(method, to, { from, callId, extra }));
  const answer = await client.next(
    (m) => m.kind === 'response' && m.status >= 200 && header(m, 'Call-ID') === callId,
  );
  return answer.kind === 'response' ? answer.status : 0;
}

const requestsOf = (client: RawSipClient, method: string) =>
  client.received.filter((m) => m.kind === 'request' && m.method === method);

beforeAll(async () => {
  await writePeople(PASSWORDS);
  gateway = await startGateway({ AUTH_SECRET: SECRET, USERS_FILE: usersFile });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(async () => {
  await gateway.close();
});

describe('who may create a call link (CALL_LINKS)', () => {
  it('defaults to signed-in when credentials are configured, and anyone in loopback development mode', () => {
    expect(loadConfig({ AUTH_SECRET: SECRET }).sessions.callLinks).toBe('signed-in');
    expect(loadConfig({ USERS_FILE: usersFile }).sessions.callLinks).toBe('signed-in');
    expect(loadConfig({}).sessions.callLinks).toBe('anyone');
    expect(() => loadConfig({ CALL_LINKS: 'everybody' })).toThrow(
      /sessions\.callLinks \(environment CALL_LINKS\)/,
    );
  });

  it('asks for a sign-in, and takes a page sign-in or a device’s SIP credentials, never a guest’s', async () => {
    const refused = await post('/api/sessions');
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: 'sign in to create a call link' });
    expect((await post('/api/sessions', undefined, 'Bearer forged.123.abc')).statusCode).toBe(401);

    const alice = await signIn('alice');
    const created = await post('/api/sessions', undefined, `Bearer ${alice.renewToken}`);
    expect(created.statusCode).toBe(201);
    const device = Buffer.from(`${DESK_PHONE.user}:${DESK_PHONE.password}`).toString('base64');
    expect((await post('/api/sessions', undefined, `Basic ${device}`)).statusCode).toBe(201);
    const ephemeral = issueEphemeralCredential(SECRET, 'someone-minted-elsewhere', 600);
    const asEphemeral = Buffer.from(`${ephemeral.username}:${ephemeral.password}`).toString('base64');
    expect((await post('/api/sessions', undefined, `Basic ${asEphemeral}`)).statusCode).toBe(201);
    const wrong = Buffer.from(`${DESK_PHONE.user}:guess`).toString('base64');
    expect((await post('/api/sessions', undefined, `Basic ${wrong}`)).statusCode).toBe(401);

    const guest = (created.json() as { credentials: Credentials }).credentials;
    const asGuest = Buffer.from(`${guest.authorizationUsername}:${guest.authorizationPassword}`).toString(
      'base64',
    );
    expect((await post('/api/sessions', undefined, `Basic ${asGuest}`)).statusCode).toBe(401);
  });

  it('refuses every creation when off', async () => {
    const off = await startGateway({ AUTH_SECRET: SECRET, USERS_FILE: usersFile, CALL_LINKS: 'off' });
    try {
      const reply = await off.app.inject({ method: 'POST', url: '/api/sessions' });
      expect(reply.statusCode).toBe(403);
      expect(reply.json().error).toMatch(/CALL_LINKS=off/);
    } finally {
      await off.close();
    }
  });
});

describe('a call-link guest reaches only its own call (issue 22 §2)', () => {
  async function link(): Promise<{ a: Credentials; b: Credentials }> {
    const alice = await signIn('alice');
    const created = await post('/api/sessions', undefined, `Bearer ${alice.renewToken}`);
    const { credentials: a, code } = created.json() as { credentials: Credentials; code: string };
    const joined = await post(`/api/sessions/${code}/join`);
    return { a, b: (joined.json() as { credentials: Credentials }).credentials };
  }

  it('follows one rule: guests call the other party of their own link and nobody else', () => {
    const a = `rw-${'1'.repeat(32)}-a`;
    const b = `rw-${'1'.repeat(32)}-b`;
    const other = `rw-${'2'.repeat(32)}-b`;
    expect(guestRefusal('INVITE', a, b)).toBeUndefined();
    expect(guestRefusal('INVITE', b, a)).toBeUndefined();
    expect(guestRefusal('MESSAGE', 'alice', 'bob')).toBeUndefined();
    for (const [method, from, to] of [
      ['INVITE', a, a],
      ['INVITE', a, other],
      ['INVITE', a, 'bob'],
      ['INVITE', a, '600'],
      ['MESSAGE', a, b],
      ['SUBSCRIBE', a, 'bob'],
      ['INVITE', 'bob', a],
      ['SUBSCRIBE', 'bob', a],
      ['INVITE', undefined, a],
    ] as const)
      expect(guestRefusal(method, from, to)).toMatch(/call-link guest/);
  });

  it('refuses a guest’s MESSAGE, SUBSCRIBE and INVITE to a user and a number, and anyone’s call to a guest', async () => {
    const { a } = await link();
    const bob = await registered((await signIn('bob')).credentials);
    const guest = await registered(a);
    const bobsAor = 'sip:bob@ringway.test';
    expect(await finalStatus(guest, 'MESSAGE', a.uri, bobsAor, ['Content-Type: text/plain'])).toBe(403);
    expect(await finalStatus(guest, 'SUBSCRIBE', a.uri, bobsAor, ['Event: dialog', 'Expires: 60'])).toBe(403);
    expect(await finalStatus(guest, 'INVITE', a.uri, bobsAor)).toBe(403);
    expect(await finalStatus(guest, 'INVITE', a.uri, 'sip:600@ringway.test')).toBe(403);
    expect(await finalStatus(bob, 'INVITE', bobsAor, a.uri)).toBe(403);
    expect(await finalStatus(bob, 'SUBSCRIBE', bobsAor, a.uri, ['Event: presence', 'Expires: 60'])).toBe(403);
    // Answered by the gateway itself, so never forwarded.
    expect(requestsOf(bob, 'INVITE')).toEqual([]);
    expect(requestsOf(bob, 'MESSAGE')).toEqual([]);
  });

  it('lets each guest of a link call the other', async () => {
    const { a, b } = await link();
    const creator = await registered(a);
    const joiner = await registered(b);
    joiner.send(
      sipRequest('INVITE', a.uri, { from: b.uri, extra: ['Contact: <sip:b@joiner.invalid;transport=ws>'] }),
    );
    const invite = await creator.next((m) => m.kind === 'request' && m.method === 'INVITE');
    expect(invite.kind === 'request' && invite.uri).toMatch(/\.invalid/);
  });
});

describe('removing or changing a user ends what was handed out before (issue 22 §10)', () => {
  it('closes the user’s connection and refuses the old credential and sign-in once removed', async () => {
    const grant = await signIn('dave');
    const dave = await registered(grant.credentials);
    const { dave: _removed, ...others } = PASSWORDS;
    await writePeople(others, undefined, ['dave']);
    expect((await dave.closed).reason).toBe('credentials revoked');

    const again = await connect();
    // Refused as unknown: challenged again, never admitted.
    expect(await register(again, grant.credentials)).toBe(401);
    expect((await post('/api/sign-in/renew', { renewToken: grant.renewToken })).statusCode).toBe(401);
  });

  it('refuses a credential and a sign-in from before the user was added again, and takes new ones', async () => {
    await writePeople(PASSWORDS);
    await fileReadAgain();
    const old = await signIn('dave');
    // Added again with a new password, as `npm run user -- add dave` writes it.
    await writePeople({ ...PASSWORDS, dave: 'dave-password-2' }, nowSeconds() + 1);
    await fileReadAgain();
    expect((await post('/api/sign-in', { user: 'dave', password: 'dave-password-1' })).statusCode).toBe(401);
    expect(await register(await connect(), old.credentials)).toBe(401);
    expect((await post('/api/sign-in/renew', { renewToken: old.renewToken })).statusCode).toBe(401);

    const fresh = await signIn('dave', 'dave-password-2');
    await registered(fresh.credentials);
    expect((await post('/api/sign-in/renew', { renewToken: fresh.renewToken })).statusCode).toBe(200);
  });
});

describe('revocation counts whole seconds without a gap (issue 22 §10)', () => {
  const T = 1_800_000_000;
  const TTL = 3600;
  async function signInFor(changedAt: number) {
    const file = join(mkdtempSync(join(tmpdir(), 'ringway-epoch-')), 'users.json');
    writeUsers(file, new Map([['dave', { passwordHash: await hashPassword('dave-password-1'), changedAt }]]));
    const users = new UsersFile(file);
    const options = {
      users,
      secret: SECRET,
      renewalKey: Buffer.from('renewal-key'),
      sipDomain: 'ringway.test',
      iceServers: [],
      credentialSeconds: TTL,
      sessionSeconds: 86400,
    };
    return { signIn: new SignIn(options), revoked: revocationByUsersFile(users, TTL) };
  }

  it('ends what was handed out in the second of a change, and dates what is handed out after it the second after', async () => {
    const before = (await signInFor(T - 10)).signIn.grant('dave', 'ws://x', T * 1000 + 100, T * 1000 + 100);
    const changed = await signInFor(T);
    expect(changed.signIn.renewal(before.renewToken, T * 1000 + 900)).toBeUndefined();
    expect(changed.revoked(before.credentials.authorizationUsername)).toMatch(/before dave's last change/);

    const after = changed.signIn.grant('dave', 'ws://x', T * 1000 + 900, T * 1000 + 900);
    expect(after.credentials.authorizationUsername).toBe(`${T + 1 + TTL}:dave`);
    expect(changed.revoked(after.credentials.authorizationUsername)).toBeUndefined();
    expect(changed.signIn.renewal(after.renewToken, T * 1000 + 950)?.user).toBe('dave');
  });
});
