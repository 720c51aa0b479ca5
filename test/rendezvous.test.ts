import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { expectText, registeredWithPassword, waitForAudio } from './support/softphone-app.js';

let browser: Browser;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(gateways.map((g) => g.close()));
});

async function page(url: string): Promise<Page> {
  const opened = await (await browser.newContext()).newPage();
  opened.on('pageerror', (error) => console.error('page error', error));
  await opened.goto(url);
  return opened;
}

async function gateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const started = await startGateway({ SIP_DOMAIN: '127.0.0.1', ...env });
  gateways.push(started);
  return started;
}

describe('a call link between two people without accounts', () => {
  it('the creator shares a link, the joiner opens it, the call starts by itself and media flows both ways', async () => {
    // Credentials on (nobody registers without them), and links for anyone, as an operator may choose.
    const gw = await gateway({
      AUTH_SECRET: 'rendezvous-e2e-secret-0123456789',
      ALLOW_ANONYMOUS: 'false',
      CALL_LINKS: 'anyone',
    });
    const creator = await page(`http://127.0.0.1:${gw.port}/`);
    await creator.getByTestId('start-link-button').click();
    await expectText(creator, 'session-state', 'waiting');
    const joinUrl = await creator.getByTestId('join-url').inputValue();
    expect(joinUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${gw.port}/\\?join=[a-z0-9]{10}$`));
    const joiner = await page(joinUrl);
    for (const p of [creator, joiner]) {
      await expectText(p, 'session-state', 'connected');
      await expectText(p, 'call-state', 'active');
    }
    expect(await waitForAudio(creator)).toBeGreaterThan(1000);
    expect(await waitForAudio(joiner)).toBeGreaterThan(1000);
    await joiner.getByTestId('hangup-button').click();
    await expectText(creator, 'session-state', 'ended');
    await expectText(creator, 'session-reason', 'hung up');
  }, 60_000);

  it('a session nobody joins expires, and the creator’s page says so', async () => {
    const gw = await gateway({ SESSION_JOIN_SECONDS: '1' });
    const creator = await page(`http://127.0.0.1:${gw.port}/`);
    await creator.getByTestId('start-link-button').click();
    await expectText(creator, 'session-state', 'expired', 5000);
    await expectText(creator, 'session-reason', 'nobody joined in time');
    const late = await page(await creator.getByTestId('join-url').inputValue());
    await expectText(late, 'session-state', 'cannot join (410)');
  }, 60_000);
});

/** A gateway as an operator runs it with accounts: `users` sign in with a password (passwordOf). */
function gatewayWithAccounts(users: string[], env: Record<string, string> = {}): Promise<RunningGateway> {
  return gateway({
    AUTH_SECRET: randomBytes(24).toString('base64'),
    USERS_FILE: usersFileWith(users),
    ...env,
  });
}

/** The page's sign-in form, once the page has applied the gateway's settings (GET /api/config). */
async function signInForm(url: string): Promise<Page> {
  const opened = await page(url);
  // With password sign-in the page hides the authorization user field: the settings are applied.
  await opened.getByTestId('authorization-user-input').waitFor({ state: 'hidden' });
  await opened.getByTestId('register-button').waitFor({ state: 'visible' });
  return opened;
}

describe('who is offered a call link (CALL_LINKS)', () => {
  it('signed in with a password, a person starts a call link from the phone screen; a guest without an account opens it and they talk both ways', async () => {
    // The default with accounts: CALL_LINKS=signed-in.
    const gw = await gatewayWithAccounts(['alice']);
    const base = `http://127.0.0.1:${gw.port}`;
    const alice = await registeredWithPassword(browser, base, 'alice', passwordOf('alice'));
    // One button, found as a person finds it: by its role and its words.
    await alice.getByRole('button', { name: 'Start a call link' }).click();
    await expectText(alice, 'session-state', 'waiting');
    await expectText(alice, 'identity', /^sip:rw-[0-9a-f]{32}-a@127\.0\.0\.1$/);
    const guest = await page(await alice.getByTestId('join-url').inputValue());
    for (const p of [alice, guest]) {
      await expectText(p, 'session-state', 'connected');
      await expectText(p, 'call-state', 'active');
    }
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    expect(await waitForAudio(guest)).toBeGreaterThan(1000);
    await guest.getByTestId('hangup-button').click();
    await expectText(alice, 'session-state', 'ended');
    // The link is over: alice's own phone is back, registered, and offers another link.
    await expectText(alice, 'identity', 'sip:alice@127.0.0.1');
    await expectText(alice, 'registration-state', 'registered');
    await alice.getByTestId('signed-in-start-link-button').waitFor({ state: 'visible' });
    await Promise.all([alice.context().close(), guest.context().close()]);
  }, 60_000);

  it('registered on the form with a device’s SIP password, a person is offered a call link and the gateway takes it', async () => {
    // A users file without AUTH_SECRET: no password sign-in, the form registers with SIP credentials.
    const usersFile = join(mkdtempSync(join(tmpdir(), 'ringway-users-')), 'users.json');
    writeFileSync(usersFile, JSON.stringify({ deskphone: 'desk-phone-digest-password' }));
    const gw = await gateway({ USERS_FILE: usersFile });
    const form = await page(`http://127.0.0.1:${gw.port}/`);
    await form.getByTestId('user-input').fill('deskphone');
    await form.getByTestId('password-input').fill('desk-phone-digest-password');
    await form.getByTestId('register-button').click();
    await expectText(form, 'registration-state', 'registered');
    await form.getByRole('button', { name: 'Start a call link' }).click();
    await expectText(form, 'session-state', 'waiting');
    expect(await form.getByTestId('join-url').inputValue()).toMatch(/\?join=[a-z0-9]{10}$/);
    await form.context().close();
  }, 30_000);

  it('not signed in, the page offers no call link where only people signed in may start one', async () => {
    const gw = await gatewayWithAccounts(['alice']);
    const visitor = await signInForm(`http://127.0.0.1:${gw.port}/`);
    expect(await visitor.getByRole('button', { name: /call link/i }).count()).toBe(0);
    await visitor.context().close();
  }, 30_000);

  it('with CALL_LINKS=off nobody is offered one, signed in or not', async () => {
    const gw = await gatewayWithAccounts(['alice'], { CALL_LINKS: 'off' });
    const base = `http://127.0.0.1:${gw.port}`;
    const visitor = await signInForm(`${base}/`);
    expect(await visitor.getByRole('button', { name: /call link/i }).count()).toBe(0);
    const alice = await registeredWithPassword(browser, base, 'alice', passwordOf('alice'));
    await alice.getByTestId('dial-input').waitFor({ state: 'visible' });
    expect(await alice.getByRole('button', { name: /call link/i }).count()).toBe(0);
    await Promise.all([visitor.context().close(), alice.context().close()]);
  }, 30_000);
});
