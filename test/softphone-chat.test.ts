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

    await expectText(ada, 'call-chat-peer', 'sip:ben@127.0.0.1');
    await sendInCall(ada, 'can you see this?');
    await expectText(ben, 'call-chat-log', /^sip:ada@127\.0\.0\.1: can you see this\?$/);
    await sendInCall(ben, 'yes, and I hear you');
    await expectText(
      ada,
      'call-chat-log',
      /^→ sip:ben@127\.0\.0\.1: can you see this\? — delivered.*sip:ben@127\.0\.0\.1: yes, and I hear you$/,
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
    await expectText(ada, 'call-chat-peer', 'sip:cy@127.0.0.1');
    await expectText(ada, 'call-chat-log', 'sip:cy@127.0.0.1: call me when you are free');
    expect(await cyThread.getAttribute('data-unread')).toBe('0');
    await sendInCall(ada, 'in a call, soon');
    await expectText(cy, 'chat-log', /sip:ada@127\.0\.0\.1: in a call, soon/);
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
});
