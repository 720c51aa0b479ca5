import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import { PasswordGuesses } from '../src/accounts/password-guesses.js';
import { hashPassword, verifyPassword } from '../src/accounts/password-hash.js';
import { SignIn } from '../src/accounts/sign-in.js';
import { UsersFile } from '../src/accounts/users-file.js';
import { ConfigError, loadConfig } from '../src/config/load-config.js';
import signInApi from '../src/http/sign-in-api.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { sipjsPhone } from './support/sipjs.js';
import { addUser, userCommand } from './support/users.js';

const SECRET = 'sign-in-test-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'ringway-sign-in-'));
const usersFile = join(dir, 'users.json');
let gateway: RunningGateway;

interface Granted {
  user: string;
  credentials: {
    uri: string;
    authorizationUsername: string;
    authorizationPassword: string;
    wsServer: string;
    wsServers: string[];
    iceServers: Array<{ urls: string; username?: string; credential?: string }>;
  };
  expiresAt: string;
  renewAt: string;
  renewToken: string;
}

function post(url: string, payload: unknown, remoteAddress = '127.0.0.1') {
  return gateway.app.inject({ method: 'POST', url, payload: payload as object, remoteAddress });
}

beforeAll(async () => {
  addUser(usersFile, 'alice', 'alice-password-1');
  gateway = await startGateway({
    AUTH_SECRET: SECRET,
    USERS_FILE: usersFile,
    ICE_SERVERS: '[{"urls":"turn:127.0.0.1:3478"},{"urls":"stun:127.0.0.1:3478"}]',
  });
});
afterAll(async () => {
  await gateway.close();
});

describe('npm run user', () => {
  it('stores a scrypt hash, never the password, in a file only its owner reads', () => {
    const text = readFileSync(usersFile, 'utf8');
    expect(text).not.toContain('alice-password-1');
    expect(JSON.parse(text).alice.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(statSync(usersFile).mode & 0o777).toBe(0o600);
  });

  it('lists, refuses bad names and short passwords, and removes', () => {
    const file = join(dir, 'other.json');
    addUser(file, 'zed', 'zeds-password');
    expect(userCommand(file, ['list']).stdout).toBe('zed\tsigns in\n');
    expect(userCommand(file, ['add', 'no spaces'], 'long-enough-1')).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('is not a user name'),
    });
    expect(userCommand(file, ['add', 'yan'], 'short')).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('8 characters'),
    });
    expect(userCommand(file, ['remove', 'zed']).status).toBe(0);
    expect(userCommand(file, ['list']).stdout).toBe('');
    // The name stays, marked removed, so that what was handed out before is refused.
    expect(JSON.parse(readFileSync(file, 'utf8')).zed).toEqual({ removedAt: expect.any(Number) });
    expect(userCommand(file, ['remove', 'zed']).stderr).toContain('zed is not in');
    expect(userCommand(file, ['frobnicate']).stderr).toContain('usage:');
  });
});

describe('password hashes', () => {
  it('verifies the right password only, and an unknown user never', async () => {
    const stored = await hashPassword('correct horse');
    expect(await verifyPassword(stored, 'correct horse')).toBe(true);
    expect(await verifyPassword(stored, 'correct horse ')).toBe(false);
    expect(await verifyPassword(undefined, 'correct horse')).toBe(false);
    expect(await verifyPassword('not a hash', 'correct horse')).toBe(false);
  });
});

describe('POST /api/sign-in', () => {
  it('exchanges a right password for SIP and TURN credentials from AUTH_SECRET that register', async () => {
    const reply = await post('/api/sign-in', { user: 'alice', password: 'alice-password-1' });
    expect(reply.statusCode).toBe(200);
    const granted = reply.json() as Granted;
    const { credentials } = granted;
    expect(credentials.uri).toBe('sip:alice@ringway.test');
    expect(credentials.authorizationUsername).toMatch(/^\d+:alice$/);
    const hmac = (text: string) => createHmac('sha1', SECRET).update(text).digest('base64');
    expect(credentials.authorizationPassword).toBe(hmac(credentials.authorizationUsername));
    // TURN gets coturn's REST credentials; STUN needs none.
    expect(credentials.iceServers).toEqual([
      {
        urls: 'turn:127.0.0.1:3478',
        username: credentials.authorizationUsername,
        credential: hmac(credentials.authorizationUsername),
      },
      { urls: 'stun:127.0.0.1:3478' },
    ]);
    const lifetime = Date.parse(granted.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(4 * 3600_000 - 60_000);
    expect(Date.parse(granted.renewAt)).toBeLessThan(Date.parse(granted.expiresAt));
    const phone = await sipjsPhone(gateway.wsUrl, 'alice', {
      authorizationUsername: credentials.authorizationUsername,
      authorizationPassword: credentials.authorizationPassword,
    });
    await phone.stop();
  });

  it('answers a wrong password and an unknown user alike: 401, the same words', async () => {
    const wrong = await post('/api/sign-in', { user: 'alice', password: 'not-the-password' }, '127.0.0.2');
    const unknown = await post('/api/sign-in', { user: 'nobody', password: 'alice-password-1' }, '127.0.0.2');
    for (const reply of [wrong, unknown]) {
      expect(reply.statusCode).toBe(401);
      expect(reply.json()).toEqual({ error: 'wrong user name or password' });
    }
  });

  it('refuses a malformed request with 400, not 500', async () => {
    for (const payload of [
      {},
      { user: 'alice' },
      { user: '', password: 'x' },
      { user: 'a', password: { nested: 1 } },
    ]) {
      expect((await post('/api/sign-in', payload, '127.0.0.3')).statusCode).toBe(400);
    }
  });

  it('limits attempts per client address: the eleventh in a minute gets 429', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      statuses.push(
        (await post('/api/sign-in', { user: 'alice', password: 'guess' }, '127.0.0.4')).statusCode,
      );
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
  });
});

describe('POST /api/sign-in/renew', () => {
  it('renews with the token, and refuses a forged one', async () => {
    const granted = (
      await post('/api/sign-in', { user: 'alice', password: 'alice-password-1' }, '127.0.0.5')
    ).json() as Granted;
    const renewed = await post('/api/sign-in/renew', { renewToken: granted.renewToken });
    expect(renewed.statusCode).toBe(200);
    expect((renewed.json() as Granted).credentials.uri).toBe('sip:alice@ringway.test');
    const [user, seconds] = granted.renewToken.split('.');
    for (const forged of [
      `${Buffer.from('bob').toString('base64url')}.${seconds}.${granted.renewToken.split('.')[2]}`,
      `${user}.${Number(seconds) + 1000}.${granted.renewToken.split('.')[2]}`,
      `${user}.${seconds}.AAAA`,
      'garbage',
    ]) {
      expect((await post('/api/sign-in/renew', { renewToken: forged })).statusCode).toBe(401);
    }
  });

  it('stops renewing when the sign-in is too old or the user was removed', () => {
    const file = join(dir, 'renewal.json');
    addUser(file, 'dora', 'doras-password');
    const signIn = new SignIn({
      users: new UsersFile(file),
      secret: SECRET,
      renewalKey: Buffer.alloc(32, 7),
      sipDomain: 'ringway.test',
      iceServers: [],
      credentialSeconds: 60,
      sessionSeconds: 3600,
    });
    const now = Date.now();
    const { renewToken } = signIn.grant('dora', 'ws://127.0.0.1/sip', now);
    expect(signIn.renewal(renewToken, now + 3599_000)?.user).toBe('dora');
    expect(signIn.renewal(renewToken, now + 3601_000)).toBeUndefined();
    writeFileSync(file, '{}');
    const later = new SignIn({
      users: new UsersFile(file),
      secret: SECRET,
      renewalKey: Buffer.alloc(32, 7),
      sipDomain: 'ringway.test',
      iceServers: [],
      credentialSeconds: 60,
      sessionSeconds: 3600,
    });
    expect(later.renewal(renewToken, now)).toBeUndefined();
  });
});

describe('configuration', () => {
  const DEPLOYMENT = ['ws://127.0.0.1:8080/sip', 'wss://gw2.example.com/sip'];

  it('hands the page the SIP WebSockets of every gateway of the deployment (WS_SERVERS), none by default', async () => {
    expect((await gateway.app.inject('/api/config')).json()).toMatchObject({ wsPath: '/sip', wsServers: [] });
    const deployed = await startGateway({ AUTH_SECRET: SECRET, WS_SERVERS: DEPLOYMENT.join(',') });
    expect((await deployed.app.inject('/api/config')).json()).toMatchObject({
      wsPath: '/sip',
      wsServers: DEPLOYMENT,
    });
    await deployed.close();
  });

  it('hands them out with the credentials of a sign-in and of its renewals', async () => {
    const routes = Fastify();
    const signIn = new SignIn({
      users: new UsersFile(usersFile),
      secret: SECRET,
      renewalKey: Buffer.alloc(32, 7),
      sipDomain: 'ringway.test',
      iceServers: [],
      credentialSeconds: 60,
      sessionSeconds: 3600,
    });
    await routes.register(signInApi, { signIn, guesses: new PasswordGuesses(), wsServers: DEPLOYMENT });
    const signedIn = await routes.inject({
      method: 'POST',
      url: '/api/sign-in',
      payload: { user: 'alice', password: 'alice-password-1' },
    });
    const granted = signedIn.json() as Granted;
    expect(granted.credentials).toMatchObject({ wsServer: 'ws://localhost:80/sip', wsServers: DEPLOYMENT });
    const renewed = await routes.inject({
      method: 'POST',
      url: '/api/sign-in/renew',
      payload: { renewToken: granted.renewToken },
    });
    expect((renewed.json() as Granted).credentials.wsServers).toEqual(DEPLOYMENT);
    await routes.close();
  });

  it('tells the page whether password sign-in is on', async () => {
    expect((await gateway.app.inject('/api/config')).json()).toMatchObject({ signIn: true });
  });

  it('starts with a users file that does not exist yet (nobody added so far)', async () => {
    const fresh = await startGateway({ AUTH_SECRET: SECRET, USERS_FILE: join(dir, 'not-yet.json') });
    expect((await fresh.app.inject('/api/config')).json()).toMatchObject({ signIn: true });
    await fresh.close();
  });

  it('stops on a users file it cannot read, naming it', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"alice": {"passwordHash": "plain"}}');
    await expect(startGateway({ AUTH_SECRET: SECRET, USERS_FILE: bad })).rejects.toThrow(
      /usersFile: .*bad.json: "alice" must be/,
    );
  });

  it('refuses the placeholder secrets of .env.example anywhere but loopback, in one line', () => {
    const placeholder = 'change-me-to-a-long-random-secret';
    expect(() => loadConfig({ HOST: '0.0.0.0', AUTH_SECRET: placeholder, PUBLIC_HOST: '192.0.2.7' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ HOST: '0.0.0.0', AUTH_SECRET: placeholder, PUBLIC_HOST: '192.0.2.7' })).toThrow(
      /^AUTH_SECRET is still the placeholder of .env.example: .* before serving 192.0.2.7$/,
    );
    expect(() =>
      loadConfig({ HOST: '0.0.0.0', AUTH_SECRET: 'x'.repeat(32), ADMIN_TOKEN: 'change-me-token-0123' }),
    ).toThrow(/^ADMIN_TOKEN is still the placeholder/);
    // Published on this machine only (Docker's default here): fine.
    expect(
      loadConfig({ HOST: '0.0.0.0', AUTH_SECRET: placeholder, PUBLIC_HOST: '127.0.0.1' }).authSecret,
    ).toBe(placeholder);
  });
});
