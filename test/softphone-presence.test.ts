import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { type PageStack, passwordOf, passwordPageStack } from './support/page-stack.js';
import {
  callContact,
  contactLamp,
  expectText,
  registeredWithPassword,
  stopPhone,
  waitForAudio,
} from './support/softphone-app.js';

// Issue 16 §1 and §6: contacts with presence, seen live on a third page. Carol watches; Alice
// and Bob sign in, call each other (Alice by clicking Bob in her contacts), hang up and sign out.
// All three are Ringway's own page, signed in with passwords, on the embedded registrar.
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const shots = join(root, '.ci', 'results', 'screenshots');
let browser: Browser;
let baseUrl: string;
let stack: PageStack | undefined;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  stack = await passwordPageStack(['alice', 'bob', 'carol']);
  ({ browser, base: baseUrl } = stack);
}, 30_000);

afterAll(async () => {
  await stack?.close();
});

const signedIn = (user: string) => registeredWithPassword(browser, baseUrl, user, passwordOf(user));

describe('contacts and presence on the softphone page', () => {
  it('shows colleagues offline, online, ringing, on a call and offline again, live', async () => {
    const carol = await signedIn('carol');
    // The operator's users are carol's contacts, each with a lamp; nobody else is on yet.
    await contactLamp(carol, 'alice', 'offline');
    await contactLamp(carol, 'bob', 'offline');
    expect(await carol.getByTestId('contact').count()).toBe(2);

    const bob = await signedIn('bob');
    await contactLamp(carol, 'bob', 'online');
    const alice = await signedIn('alice');
    await contactLamp(carol, 'alice', 'online');
    await contactLamp(alice, 'bob', 'online');

    // One click on a contact calls them.
    await callContact(alice, 'bob');
    await contactLamp(carol, 'bob', 'ringing');
    await contactLamp(carol, 'alice', 'on-call');
    await bob.getByTestId('answer-button').click({ timeout: 10_000 });
    await contactLamp(carol, 'bob', 'on-call');
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    expect(await waitForAudio(bob)).toBeGreaterThan(1000);
    // Screen readers hear the same as the lamp shows.
    expect(
      await carol
        .getByRole('button', { name: 'Call bob on a call' })
        .evaluate((button) => (button.closest('[data-testid="contact"]') as HTMLElement).dataset.address),
    ).toBe('bob');
    await carol.screenshot({ path: join(shots, 'contacts-presence.png'), fullPage: true });

    await alice.getByTestId('hangup-button').click();
    await contactLamp(carol, 'bob', 'online');
    await contactLamp(carol, 'alice', 'online');

    // Bob's phone unregisters (REGISTER with Expires: 0): offline at once.
    await stopPhone(bob);
    await contactLamp(carol, 'bob', 'offline');
    // Alice's tab closes without a word: her connection's bindings go, and so does her lamp.
    await alice.context().close();
    await contactLamp(carol, 'alice', 'offline');
    await Promise.all([carol.context().close(), bob.context().close()]);
  }, 90_000);

  it('keeps contacts a person adds in this browser, watched like the others', async () => {
    const carol = await signedIn('carol');
    await carol.getByTestId('contact-name-input').fill('Bob at his desk');
    await carol.getByTestId('contact-address-input').fill('bob');
    await carol.getByTestId('contact-add-button').click();
    const bobItem = carol.locator('[data-testid="contact"][data-address="bob"]');
    await expectText(carol, 'contact-list', /Bob at his desk/);
    // One entry for bob (hers, named by her), one for alice from the directory.
    expect(await carol.getByTestId('contact').count()).toBe(2);
    const bob = await signedIn('bob');
    await contactLamp(carol, 'bob', 'online');
    await carol.reload();
    await carol.getByTestId('user-input').fill('carol');
    await carol.getByTestId('password-input').fill(passwordOf('carol'));
    await carol.getByTestId('register-button').click();
    await contactLamp(carol, 'bob', 'online');
    expect(await bobItem.textContent()).toMatch(/Bob at his desk/);
    await bobItem.getByRole('button', { name: 'Remove Bob at his desk from contacts' }).click();
    await expect(bobItem.textContent()).resolves.not.toMatch(/Bob at his desk/);
    await Promise.all([carol.context().close(), bob.context().close()]);
  }, 60_000);

  it('picks up a call ringing for a colleague (directed pickup): the caller is connected here', async () => {
    const [carol, bob, alice] = [await signedIn('carol'), await signedIn('bob'), await signedIn('alice')];
    await contactLamp(carol, 'bob', 'online');
    await alice.getByTestId('dial-input').fill('bob');
    await alice.getByTestId('dial-button').click();
    await bob.getByTestId('answer-button').waitFor({ state: 'visible' });
    await contactLamp(carol, 'bob', 'ringing');
    await carol.locator('[data-testid="contact"][data-address="bob"] [data-testid="contact-pickup"]').click();
    await expectText(carol, 'call-state', 'active');
    await expectText(alice, 'call-state', 'active');
    expect(await waitForAudio(carol)).toBeGreaterThan(1000);
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    // Bob's phone stopped ringing; his lamp goes back to online, Alice's stays on a call.
    await bob.getByTestId('answer-button').waitFor({ state: 'hidden' });
    await contactLamp(carol, 'bob', 'online');
    await contactLamp(carol, 'alice', 'on-call');
    await carol.getByTestId('hangup-button').click();
    await expectText(alice, 'call-state', /ended/);
    await Promise.all([carol, bob, alice].map((page) => page.context().close()));
  }, 90_000);
});
