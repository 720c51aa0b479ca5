import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { callAndAnswer, expectText, waitForAudio } from './support/softphone-app.js';

// Issue 12 §3: signing in on the page's form with an ephemeral credential (`<expiry>:gina` and its
// password) registers the address `gina`, not `<expiry>:gina`, so a call to gina reaches the page.
const SECRET = 'sign-in-e2e-secret-0123456789';
let browser: Browser;
let gateway: RunningGateway;

beforeAll(async () => {
  gateway = await startGateway({ SIP_DOMAIN: '127.0.0.1', AUTH_SECRET: SECRET });
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

async function signIn(fields: { user: string; password: string; authorizationUser?: string }): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => console.error('page error', error));
  await page.goto(`http://127.0.0.1:${gateway.port}/`);
  await page.getByTestId('user-input').fill(fields.user);
  await page.getByTestId('password-input').fill(fields.password);
  if (fields.authorizationUser)
    await page.getByTestId('authorization-user-input').fill(fields.authorizationUser);
  await page.getByTestId('register-button').click();
  await expectText(page, 'registration-state', 'registered');
  return page;
}

describe('signing in on the softphone page with credentials', () => {
  it('an ephemeral username in the user field registers its user; a call to that address reaches the page', async () => {
    const gina = issueEphemeralCredential(SECRET, 'gina', 600);
    const hank = issueEphemeralCredential(SECRET, 'hank', 600);
    const ginaPage = await signIn({ user: gina.username, password: gina.password });
    const hankPage = await signIn({
      user: 'hank',
      authorizationUser: hank.username,
      password: hank.password,
    });
    await expectText(ginaPage, 'identity', 'sip:gina@127.0.0.1');
    await expectText(hankPage, 'identity', 'sip:hank@127.0.0.1');
    await callAndAnswer(hankPage, ginaPage, 'gina');
    expect(await waitForAudio(ginaPage)).toBeGreaterThan(1000);
    expect(await waitForAudio(hankPage)).toBeGreaterThan(1000);
    await hankPage.getByTestId('hangup-button').click();
    await expectText(ginaPage, 'call-state', /ended/);
    await Promise.all([ginaPage.context().close(), hankPage.context().close()]);
  }, 60_000);

  it('a wrong password says so and does not register', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://127.0.0.1:${gateway.port}/`);
    await page.getByTestId('user-input').fill('gina');
    await page.getByTestId('password-input').fill('not-the-password');
    await page.getByTestId('register-button').click();
    await expectText(page, 'registration-state', 'failed');
    await expectText(page, 'registration-reason', /401|password|credential/i);
    await page.context().close();
  }, 30_000);
});
