import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { eventually } from './support/eventually.js';
import { type PageStack, pageStack } from './support/page-stack.js';
import { contactLamp, expectText, openSoftphone, waitForAudio } from './support/softphone-app.js';

// Issue 16 §4: axe-core in Chromium on each screen of the page — sign-in, idle, incoming call, in
// call — finds no serious or critical violation.
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let browser: Browser;
let base: string;
let stack: PageStack | undefined;

beforeAll(async () => {
  stack = await pageStack();
  ({ browser, base } = stack);
}, 30_000);

afterAll(async () => {
  await stack?.close();
});

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** The serious and critical violations axe-core finds on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = (await page.evaluate(async () => {
    const result = await (
      globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }
    ).axe.run();
    return result.violations;
  })) as Violation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('accessibility of the softphone page (axe-core)', () => {
  it('has no serious or critical violation when signing in, idle, ringing and in a call', async () => {
    const signIn = await (await browser.newContext()).newPage();
    await signIn.goto(`${base}/`);
    expect(await seriousViolations(signIn)).toEqual([]);

    const alice = await openSoftphone(browser, base, 'alice');
    const bob = await openSoftphone(browser, base, 'bob');
    // Idle with a contact and its lamp lit.
    await alice.getByTestId('contact-name-input').fill('Bob');
    await alice.getByTestId('contact-address-input').fill('bob');
    await alice.getByTestId('contact-add-button').click();
    await contactLamp(alice, 'bob', 'online');
    expect(await seriousViolations(alice)).toEqual([]);
    await alice.getByTestId('dial-input').fill('bob');
    await alice.getByTestId('dial-button').click();
    await bob.getByTestId('answer-button').waitFor({ state: 'visible' });
    expect(await seriousViolations(bob)).toEqual([]);
    await bob.getByTestId('answer-button').click();
    await expectText(alice, 'call-state', 'active');
    expect(await seriousViolations(alice)).toEqual([]);
    // Call waiting: a second call arrives during the first.
    const carol = await openSoftphone(browser, base, 'carol');
    await carol.getByTestId('dial-input').fill('alice');
    await carol.getByTestId('dial-button').click();
    await alice.getByTestId('answer-button').waitFor({ state: 'visible' });
    expect(await seriousViolations(alice)).toEqual([]);
    await carol.getByTestId('hangup-button').click();
    await alice.getByTestId('answer-button').waitFor({ state: 'hidden' });
    await carol.context().close();
    await alice.getByTestId('hangup-button').click();
    // The system's dark mode: the same screens in the other colours (contrast included).
    const dark = await (await browser.newContext({ colorScheme: 'dark' })).newPage();
    await dark.goto(`${base}/?user=carol`);
    await expectText(dark, 'registration-state', 'registered');
    expect(await seriousViolations(dark)).toEqual([]);
    await Promise.all([signIn, alice, bob, dark].map((page) => page.context().close()));
  }, 60_000);

  it('a whole call with the keyboard only: dial, answer, mute, hold, hang up', async () => {
    const alice = await openSoftphone(browser, base, 'alice');
    const bob = await openSoftphone(browser, base, 'bob');
    await alice.keyboard.press('/');
    expect(await alice.evaluate(() => document.activeElement?.id)).toBe('dial-input');
    await alice.keyboard.type('bob');
    await alice.keyboard.press('Enter');
    await bob.getByTestId('answer-button').waitFor({ state: 'visible' });
    await bob.keyboard.press('a');
    await expectText(alice, 'call-state', 'active');
    expect(await waitForAudio(bob)).toBeGreaterThan(1000);
    // Focus is in the dial field after dialling, where letters are typing: Tab leaves it.
    await alice.keyboard.press('Tab');
    const muted = (pressed: string) =>
      eventually(
        () => alice.getByTestId('mute-button').getAttribute('aria-pressed'),
        (value) => value === pressed,
        (value) => `mute button aria-pressed is ${value}, expected ${pressed}`,
      );
    await alice.keyboard.press('m');
    await muted('true');
    await alice.keyboard.press('m');
    await muted('false');
    await alice.keyboard.press('p');
    await expectText(alice, 'call-state', 'held');
    await alice.keyboard.press('p');
    await expectText(alice, 'call-state', 'active');
    // Escape in a text field (the call's message field) leaves it, the call stays; the next Escape hangs up.
    await alice.getByTestId('call-chat-text').focus();
    await alice.keyboard.press('Escape');
    expect(await alice.evaluate(() => document.activeElement?.id)).not.toBe('call-chat-text');
    await expectText(alice, 'call-state', 'active');
    await alice.keyboard.press('Escape');
    await expectText(bob, 'call-state', /ended/);
    await Promise.all([alice.context().close(), bob.context().close()]);
  }, 60_000);
});
