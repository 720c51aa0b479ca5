import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { startPhonePageServer } from './support/phone-page-server.js';
import { callAndAnswer, expectText, openSoftphone } from './support/softphone-app.js';

// Issue 26: the page names people (the From's display name, a contact's name) and their user
// part, with the full URI on demand, wherever it shows a party.
let browser: Browser;
let gateway: RunningGateway;
let pages: Awaited<ReturnType<typeof startPhonePageServer>>;
const base = () => `http://127.0.0.1:${gateway.port}`;

beforeAll(async () => {
  gateway = await startGateway({ SIP_DOMAIN: '127.0.0.1' });
  [browser, pages] = await Promise.all([launchChromium(), startPhonePageServer()]);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await gateway?.close();
});

/**
 * A caller whose From carries a display name: Ringway's Phone (the library, on the bare test page)
 * with its `displayName` option, dialling `target`.
 */
async function namedCaller(user: string, displayName: string, target: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(pages.url);
  await page.evaluate(
    async ([ws, u, name, t]) => {
      const { Phone } = (
        globalThis as unknown as { RingwaySoftphone: typeof import('../packages/softphone/src/index.js') }
      ).RingwaySoftphone;
      const phone = new Phone({ server: ws, aor: `sip:${u}@127.0.0.1`, displayName: name, iceServers: [] });
      await phone.start();
      (globalThis as unknown as { named: unknown }).named = phone.dial(t);
    },
    [gateway.wsUrl, user, displayName, target] as const,
  );
  return page;
}

/** The element's `title` (the party's full URI on hover). */
const titleOf = (page: Page, selector: string) => page.locator(selector).first().getAttribute('title');

describe('names, not raw URIs', () => {
  it('a caller’s display name and user part on the incoming screen, the call screen and in the history, the URI on demand', async () => {
    const dora = await openSoftphone(browser, base(), 'dora');
    const zoe = await namedCaller('zoe', 'Zoë Quinn', 'dora');
    await dora.getByTestId('answer-button').waitFor({ state: 'visible', timeout: 10_000 });
    await expectText(dora, 'incoming-from', 'Zoë Quinn zoe');
    expect(await dora.getByTestId('incoming-from').getByTestId('party-name').textContent()).toBe('Zoë Quinn');
    expect(await titleOf(dora, '[data-testid="incoming-from"] .party')).toBe('sip:zoe@127.0.0.1');
    // The URI on demand: closed until asked for.
    const uri = dora.getByTestId('incoming-from-uri').locator('code');
    expect(await uri.isVisible()).toBe(false);
    await dora.getByTestId('incoming-from-uri').locator('summary').click();
    expect(await uri.isVisible()).toBe(true);
    expect(await uri.textContent()).toBe('sip:zoe@127.0.0.1');

    await dora.getByTestId('answer-button').click();
    await expectText(dora, 'call-state', 'active');
    await expectText(dora, 'call-remote', 'From Zoë Quinn zoe');
    expect(await dora.getByTestId('lines').textContent()).toBe('Zoë Quinn (zoe) — active');
    await dora.getByTestId('hangup-button').click();
    await expectText(dora, 'call-state', /^ended/);
    const entry = dora.getByTestId('history-entry').first();
    await expectText(dora, 'history-list', /← Zoë Quinn zoe/);
    expect(await entry.locator('.party').getAttribute('title')).toBe('sip:zoe@127.0.0.1');
    await entry.getByTestId('history-uri').locator('summary').click();
    expect(await entry.getByTestId('history-uri').locator('code').textContent()).toBe('sip:zoe@127.0.0.1');
    await Promise.all([dora.context().close(), zoe.context().close()]);
  }, 60_000);

  it('a caller without a display name shows as its user part; a contact’s name names the call to them', async () => {
    const [eli, abe] = await Promise.all(['eli', 'abe'].map((user) => openSoftphone(browser, base(), user)));
    await callAndAnswer(abe, eli, 'eli');
    await expectText(eli, 'call-remote', 'From abe');
    expect(await eli.getByTestId('call-remote').getByTestId('party-name').count()).toBe(0);
    expect(await titleOf(eli, '[data-testid="call-remote"] .party')).toBe('sip:abe@127.0.0.1');
    await eli.getByTestId('hangup-button').click();
    await expectText(abe, 'call-state', /^ended/);
    await expectText(eli, 'history-list', /← abe — /);

    // A contact: its name and user part in the list, the URI as the title; calling it names the call.
    await eli.getByTestId('contact-name-input').fill('Abe Lincoln');
    await eli.getByTestId('contact-address-input').fill('abe');
    await eli.getByTestId('contact-add-button').click();
    const contact = eli.locator('[data-testid="contact"][data-address="abe"] [data-testid="contact-call"]');
    expect(await contact.locator('.contact-name').textContent()).toBe('Abe Lincoln');
    expect(await contact.getByTestId('contact-user').textContent()).toBe('abe');
    expect(await contact.getAttribute('title')).toBe('sip:abe@127.0.0.1');
    await contact.click();
    await abe.getByTestId('answer-button').click({ timeout: 10_000 });
    await eli.getByTestId('hangup-button').click();
    await expectText(eli, 'history-list', /→ Abe Lincoln abe/);
    await Promise.all([eli.context().close(), abe.context().close()]);
  }, 60_000);
});
