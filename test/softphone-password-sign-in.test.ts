import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { addUser } from '../packages/gateway/test/support/users.js';
import { eventually } from './support/eventually.js';
import { passwordOf, passwordPageStack } from './support/page-stack.js';
import { callAndAnswer, expectText, signInWithPassword, waitForAudio } from './support/softphone-app.js';

// Issue 13 §3: people the operator added with `npm run user -- add` sign in on the page with a
// password; the gateway hands the page ephemeral SIP and TURN credentials and the page renews them.
const CREDENTIAL_SECONDS = 30;

interface RingwayWindow {
  ringway: {
    phone(): {
      networkChanged(): void;
      registrationChange: { addListener(f: (state: string) => void): void };
    };
  };
}
let browser: Browser;
let baseUrl: string;
let usersFile: string;
let stack: Awaited<ReturnType<typeof passwordPageStack>> | undefined;

beforeAll(async () => {
  stack = await passwordPageStack(['alice', 'bob'], {
    SIGN_IN_CREDENTIAL_SECONDS: String(CREDENTIAL_SECONDS),
  });
  ({ browser, base: baseUrl, usersFile } = stack);
}, 30_000);

afterAll(async () => {
  await stack?.close();
});

describe('password sign-in on the softphone page', () => {
  it('alice and bob sign in with their passwords and call each other, audio both ways', async () => {
    const alice = await signInWithPassword(browser, baseUrl, 'alice', 'alice-password-1');
    const bob = await signInWithPassword(browser, baseUrl, 'bob', 'bob-password-1');
    await expectText(alice, 'registration-state', 'registered');
    await expectText(bob, 'registration-state', 'registered');
    await expectText(alice, 'identity', 'sip:alice@127.0.0.1');
    await callAndAnswer(alice, bob, 'bob');
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    expect(await waitForAudio(bob)).toBeGreaterThan(1000);
    await alice.getByTestId('hangup-button').click();
    await expectText(bob, 'call-state', /ended/);
    await Promise.all([alice.context().close(), bob.context().close()]);
  }, 60_000);

  it('a wrong password and an unknown user get the same words, and nothing registers', async () => {
    for (const [user, password] of [
      ['alice', 'not-alices-password'],
      ['mallory', 'alice-password-1'],
    ]) {
      const page = await signInWithPassword(browser, baseUrl, user as string, password as string);
      await expectText(page, 'action-error', 'Wrong user name or password.');
      await expectText(page, 'registration-state', 'unregistered');
      expect(await page.getByTestId('register-button').isVisible()).toBe(true);
      await page.context().close();
    }
  }, 30_000);

  it('a user added while the gateway runs signs in without a restart', async () => {
    addUser(usersFile, 'carol', passwordOf('carol'));
    const carol = await signInWithPassword(browser, baseUrl, 'carol', 'carol-password-1');
    // The gateway looks at the file's time at most once a second: a first try may come before,
    // and is refused. Each try is waited for until it has an outcome, registered or refused.
    const outcome = () =>
      eventually(
        async () =>
          (await carol.getByTestId('registration-state').textContent()) === 'registered'
            ? 'registered'
            : (await carol.getByTestId('action-error').textContent())
              ? 'refused'
              : '',
        (result) => result !== '',
        () => 'the sign-in had no outcome',
      );
    for (let tries = 1; (await outcome()) === 'refused' && tries < 20; tries++) {
      await carol.waitForTimeout(250);
      await carol.getByTestId('register-button').click();
    }
    await expectText(carol, 'registration-state', 'registered');
    await carol.context().close();
  }, 30_000);

  it('renews the credentials before they expire: after the first ones expired, a new connection registers and calls', async () => {
    const alice = await signInWithPassword(browser, baseUrl, 'alice', 'alice-password-1');
    const bob = await signInWithPassword(browser, baseUrl, 'bob', 'bob-password-1');
    await expectText(alice, 'registration-state', 'registered');
    await expectText(bob, 'registration-state', 'registered');
    const signedInAt = Date.now();
    // Renewal is due three quarters into the credentials' life; wait past the first ones' end.
    for (const page of [alice, bob])
      await page.waitForFunction(() => document.body.dataset.credentialsRenewedAt, undefined, {
        timeout: CREDENTIAL_SECONDS * 1000,
      });
    await alice.waitForTimeout(Math.max(0, signedInAt + (CREDENTIAL_SECONDS + 2) * 1000 - Date.now()));
    // A new WebSocket means a new REGISTER, challenged, answered with the renewed credentials.
    for (const page of [alice, bob]) {
      await page.evaluate(() => {
        const phone = (window as unknown as RingwayWindow).ringway.phone();
        const seen: string[] = [];
        (window as unknown as { seen: string[] }).seen = seen;
        phone.registrationChange.addListener((state) => seen.push(state));
        phone.networkChanged();
      });
      await page.waitForFunction(
        () => {
          const seen = (window as unknown as { seen: string[] }).seen;
          return seen.includes('reconnecting') && seen.at(-1) === 'registered';
        },
        undefined,
        { timeout: 15_000 },
      );
    }
    await callAndAnswer(bob, alice, 'alice');
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    expect(await waitForAudio(bob)).toBeGreaterThan(1000);
    await Promise.all([alice.context().close(), bob.context().close()]);
  }, 90_000);
});
