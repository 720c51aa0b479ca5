import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { type PageStack, pageStack } from './support/page-stack.js';
import {
  audioBytesReceived,
  audioGrowsBeyond,
  callAndAnswer,
  expectText,
  openSoftphone,
} from './support/softphone-app.js';

// Chat during a call: the call screen shows the thread with the call's other party and sends to
// it; a message from someone else waits, unread, in their own thread.
let stack: PageStack;

beforeAll(async () => {
  stack = await pageStack();
}, 30_000);

afterAll(async () => {
  await stack?.close();
});

/** Sends `text` from the call screen's thread and waits until the other side took it. */
async function sendInCall(page: Page, text: string): Promise<void> {
  await page.getByTestId('call-chat-text').fill(text);
  await page.getByTestId('call-chat-send').click();
  await page
    .getByTestId('call-chat-log')
    .locator('[data-testid="chat-sent"][data-delivery="delivered"]', { hasText: text })
    .waitFor({ timeout: 10_000 });
}

describe('chat during a call', () => {
  it('two pages in a call exchange messages both ways on the call screen while audio flows; a third person’s message waits unread in their thread', async () => {
    const [ada, ben, cy] = await Promise.all(
      ['ada', 'ben', 'cy'].map((user) => openSoftphone(stack.browser, stack.base, user)),
    );
    await callAndAnswer(ada, ben, 'ben');
    const [adaBytes, benBytes] = await Promise.all([audioBytesReceived(ada), audioBytesReceived(ben)]);

    await expectText(ada, 'call-chat-peer', 'ben');
    await sendInCall(ada, 'can you see this?');
    await expectText(ben, 'call-chat-log', /^ada: can you see this\?$/);
    await sendInCall(ben, 'yes, and I hear you');
    await expectText(
      ada,
      'call-chat-log',
      /^→ ben: can you see this\? — delivered.*ben: yes, and I hear you$/,
    );
    // Sent and delivered: the field is free for the next one.
    expect(await ada.getByTestId('call-chat-text').inputValue()).toBe('');
    // The call went on meanwhile, audio both ways.
    await Promise.all([audioGrowsBeyond(ada, adaBytes), audioGrowsBeyond(ben, benBytes)]);
    await expectText(ada, 'call-state', 'active');
    await expectText(ben, 'call-state', 'active');

    // Cy writes to Ada during her call: an unread mark on Cy's thread, not a line in Ben's.
    await cy.getByTestId('chat-to').fill('ada');
    await cy.getByTestId('chat-text').fill('call me when you are free');
    await cy.getByTestId('chat-send').click();
    const cyThread = ada.locator('[data-testid="chat-thread"][data-peer="sip:cy@127.0.0.1"]');
    await ada
      .locator('[data-testid="chat-thread"][data-peer="sip:cy@127.0.0.1"][data-unread="1"]')
      .waitFor({ timeout: 10_000 });
    expect(await ada.getByTestId('call-chat-log').textContent()).not.toContain('call me when you are free');

    // Opened, Cy's thread shows the message, is read, and takes a reply; then back to Ben's.
    await cyThread.click();
    await expectText(ada, 'call-chat-peer', 'cy');
    await expectText(ada, 'call-chat-log', 'cy: call me when you are free');
    expect(await cyThread.getAttribute('data-unread')).toBe('0');
    await sendInCall(ada, 'in a call, soon');
    await expectText(cy, 'chat-log', /ada: in a call, soon/);
    await ada.locator('[data-testid="chat-thread"][data-peer="sip:ben@127.0.0.1"]').click();
    await expectText(ada, 'call-chat-log', /yes, and I hear you$/);

    // After the call the idle screen's log has every message, Cy's included.
    await ada.getByTestId('hangup-button').click();
    await expectText(ben, 'call-state', /^ended/);
    const log = await ada.getByTestId('chat-log').textContent();
    for (const text of [
      'can you see this?',
      'yes, and I hear you',
      'call me when you are free',
      'in a call, soon',
    ])
      expect(log).toContain(text);
    expect(await ada.getByTestId('call-chat-log').textContent()).toBe('');
    await Promise.all([ada, ben, cy].map((page) => page.context().close()));
  }, 60_000);

  it('Escape in the message field leaves the field and keeps the call: media still flows both ways; Escape outside it hangs up', async () => {
    const [dee, eve] = await Promise.all(
      ['dee', 'eve'].map((user) => openSoftphone(stack.browser, stack.base, user)),
    );
    await callAndAnswer(dee, eve, 'eve');
    const field = dee.getByTestId('call-chat-text');
    await field.fill('half a thought');
    await field.press('Escape');
    expect(await dee.evaluate(() => document.activeElement?.id)).not.toBe('call-chat-text');
    const [deeBytes, eveBytes] = await Promise.all([audioBytesReceived(dee), audioBytesReceived(eve)]);
    await Promise.all([audioGrowsBeyond(dee, deeBytes), audioGrowsBeyond(eve, eveBytes)]);
    await expectText(dee, 'call-state', 'active');
    await expectText(eve, 'call-state', 'active');
    // Out of the field, Escape is the page's hang-up key again.
    await dee.keyboard.press('Escape');
    await expectText(eve, 'call-state', /^ended: the other side hung up/);
    await Promise.all([dee, eve].map((page) => page.context().close()));
  }, 60_000);
});
