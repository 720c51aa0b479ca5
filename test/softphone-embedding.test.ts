import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { eventually } from './support/eventually.js';
import { type PageStack, pageStack } from './support/page-stack.js';
import { expectText, openSoftphone, waitForAudio } from './support/softphone-app.js';

// Issue 16 §5: @ringway/softphone embedded in a page of its own (packages/softphone/examples/
// auto-answer, ten lines on the library), called from Ringway's page; and sip:/tel: links opened
// in Ringway's page wait in the dial field for one press of Dial.
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

/** Audio bytes the example page's call has received, from its peer connection. */
function exampleAudioBytes(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const { phone } = (
      globalThis as unknown as {
        example: { phone: { calls: Array<{ peerConnection?: RTCPeerConnection }> } };
      }
    ).example;
    const stats = await phone.calls[0]?.peerConnection?.getStats();
    let bytes = 0;
    stats?.forEach((report) => {
      if (report.type === 'inbound-rtp' && report.kind === 'audio') bytes += report.bytesReceived;
    });
    return bytes;
  });
}

/** How many calls the phone of Ringway's page holds (ended ones leave the list). */
function callsOn(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      (globalThis as unknown as { ringway: { phone(): { calls: unknown[] } } }).ringway.phone().calls.length,
  );
}

describe('the softphone library embedded in another page', () => {
  it('the auto-answer example registers, answers a call from Ringway’s page, and both hear each other', async () => {
    const example = await (await browser.newContext()).newPage();
    await example.goto(`${base}/examples/auto-answer/?user=carol`);
    await expectText(example, 'example-registration', 'registered');
    const alice = await openSoftphone(browser, base, 'alice');
    await alice.getByTestId('dial-input').fill('carol');
    await alice.getByTestId('dial-button').click();
    await expectText(example, 'example-call', 'active');
    await expectText(alice, 'call-state', 'active');
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    expect(
      await eventually(
        () => exampleAudioBytes(example),
        (bytes) => bytes > 1000,
        (bytes) => `the example page received ${bytes} bytes of audio`,
      ),
    ).toBeGreaterThan(1000);
    await alice.getByTestId('hangup-button').click();
    await expectText(example, 'example-call', /ended/);
    await Promise.all([example.context().close(), alice.context().close()]);
  }, 60_000);

  it('a sip: link opened in Ringway’s page waits in the dial field; one press of Dial calls', async () => {
    const bob = await openSoftphone(browser, base, 'bob');
    const alice = await (await browser.newContext()).newPage();
    await alice.goto(`${base}/?user=alice&dial=${encodeURIComponent('sip:bob@127.0.0.1')}`);
    await expectText(alice, 'registration-state', 'registered');
    expect(await alice.getByTestId('dial-input').inputValue()).toBe('sip:bob@127.0.0.1');
    // Nothing rings until the person presses Dial. The page's start-up, which took the link, has
    // run to its end (it hands out window.ringway last), and placed no call.
    await alice.waitForFunction(() => 'ringway' in globalThis);
    expect(await callsOn(alice)).toBe(0);
    // A later message from Alice on the same path to Bob: once Bob has it, an INVITE sent before
    // it would have reached him too.
    await alice.getByTestId('chat-to').fill('bob');
    await alice.getByTestId('chat-text').fill('before dialling');
    await alice.getByTestId('chat-send').click();
    await expectText(bob, 'chat-log', /alice.*: before dialling/);
    expect(await callsOn(bob)).toBe(0);
    expect(await bob.getByTestId('answer-button').isVisible()).toBe(false);
    await alice.getByTestId('dial-button').click();
    await bob.getByTestId('answer-button').click();
    await expectText(alice, 'call-state', 'active');
    await alice.getByTestId('hangup-button').click();
    // The page offers itself as the handler of sip: and tel: links.
    await alice.getByTestId('link-handler-button').click();
    await expectText(alice, 'link-handler-state', /sip: and tel: links|would not/);
    await Promise.all([alice.context().close(), bob.context().close()]);
  }, 60_000);
});
