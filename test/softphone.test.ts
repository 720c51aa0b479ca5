import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import { callAndAnswer, expectText, openSoftphone, waitForAudio } from './support/softphone-app.js';

let browser: Browser;
let gateway: RunningGateway;
const base = () => `http://127.0.0.1:${gateway.port}`;

beforeAll(async () => {
  gateway = await startGateway({ SIP_DOMAIN: '127.0.0.1' });
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

async function pages(...users: string[]): Promise<Page[]> {
  return Promise.all(users.map((user) => openSoftphone(browser, base(), user)));
}

async function closeAll(...list: Page[]): Promise<void> {
  await Promise.all(list.map((page) => page.context().close()));
}

describe('the page', () => {
  it('asks the gateway for nothing it does not serve: its icon included (/favicon.svg, and /favicon.ico for pages that name none)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const answered: string[] = [];
    page.on('response', (response) =>
      answered.push(`${response.status()} ${new URL(response.url()).pathname}`),
    );
    await page.goto(`${base()}/?user=carol`);
    await expectText(page, 'registration-state', 'registered');
    const icon = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel=icon]');
      return link ? (await fetch(link.href)).status : 0;
    });
    expect(icon).toBe(200);
    expect(answered.filter((line) => !/^(200|204|101|304) /.test(line))).toEqual([]);
    const ico = await fetch(`${base()}/favicon.ico`);
    expect([ico.status, ico.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
    await context.close();
  });
});

/** The direction the page's current call negotiated for its audio, from its peer connection. */
function audioDirection(page: Page): Promise<string | null | undefined> {
  return page.evaluate(() => {
    const ringway = (window as unknown as { ringway: { current(): { peerConnection?: RTCPeerConnection } } })
      .ringway;
    return ringway
      .current()
      ?.peerConnection?.getTransceivers()
      .find((t) => t.receiver.track.kind === 'audio')?.currentDirection;
  });
}

describe('the softphone page served by the gateway', () => {
  it('registers two pages; A dials B, B answers, media flows both ways; hold and resume change direction', async () => {
    const [alice, bob] = await pages('alice', 'bob');
    await callAndAnswer(alice, bob, 'bob');
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    expect(await waitForAudio(bob)).toBeGreaterThan(1000);
    const steps = await alice.getByTestId('call-waterfall').locator('li').allTextContents();
    expect(steps.map((s) => s.split(':')[0])).toEqual(
      expect.arrayContaining([
        'dial',
        'offerReady',
        'inviteSent',
        'answered',
        'iceConnected',
        'dtlsConnected',
      ]),
    );

    await alice.getByTestId('hold-button').click();
    await expectText(alice, 'call-state', 'held');
    expect(await audioDirection(alice)).toBe('sendonly');
    expect(await audioDirection(bob)).toBe('recvonly');
    await expectText(bob, 'call-state', 'held by the other side');
    await alice.getByTestId('hold-button').click();
    await expectText(alice, 'call-state', 'active');
    expect(await audioDirection(bob)).toBe('sendrecv');
    await expectText(bob, 'call-state', 'active');

    mkdirSync('.ci/results', { recursive: true });
    const screenshot = await alice.screenshot({ fullPage: true });
    writeFileSync('.ci/results/active-call.png', screenshot);
    expect(screenshot.length).toBeGreaterThan(10_000);

    await alice.getByTestId('hangup-button').click();
    await expectText(bob, 'call-state', /^ended: the other side hung up/);
    await closeAll(alice, bob);
  }, 60_000);

  it('sends DTMF: SIP INFO digits arrive at B, RFC 4733 digits leave A', async () => {
    const [carol, dave] = await pages('carol', 'dave');
    await callAndAnswer(carol, dave, 'dave');
    await carol.getByTestId('dtmf-info').check();
    await carol.getByTestId('dtmf-5').click();
    await carol.getByTestId('dtmf-hash').click();
    await dave.waitForFunction(() => {
      const call = (
        window as unknown as { ringway: { current(): { dtmfReceived: string[] } } }
      ).ringway.current();
      return call.dtmfReceived.join('') === '5#';
    });
    await carol.getByTestId('dtmf-info').uncheck();
    await carol.getByTestId('dtmf-1').click();
    const buffered = await carol.evaluate(() => {
      const call = (
        window as unknown as { ringway: { current(): { peerConnection: RTCPeerConnection } } }
      ).ringway.current();
      return call.peerConnection.getSenders().find((s) => s.track?.kind === 'audio')?.dtmf?.toneBuffer;
    });
    expect(buffered).toMatch(/^1?$/);
    await carol.getByTestId('hangup-button').click();
    await closeAll(carol, dave);
  }, 60_000);

  it('B declines and A shows "declined (603)"', async () => {
    const [erin, frank] = await pages('erin', 'frank');
    await erin.getByTestId('dial-input').fill('frank');
    await erin.getByTestId('dial-button').click();
    await frank.getByTestId('decline-button').click({ timeout: 10_000 });
    await expectText(erin, 'call-state', 'failed: declined (603)');
    await closeAll(erin, frank);
  }, 60_000);

  it('A transfers B to C: B calls C and A’s call ends', async () => {
    const [alice2, bob2, carol2] = await pages('alice2', 'bob2', 'carol2');
    await callAndAnswer(alice2, bob2, 'bob2');
    await alice2.getByTestId('transfer-input').fill('carol2');
    await alice2.getByTestId('transfer-button').click();
    await carol2.getByTestId('answer-button').click({ timeout: 10_000 });
    await expectText(carol2, 'call-state', 'active');
    await expectText(bob2, 'call-state', 'active');
    await expectText(alice2, 'call-state', /^ended/);
    expect(await waitForAudio(carol2)).toBeGreaterThan(1000);
    await closeAll(alice2, bob2, carol2);
  }, 60_000);
});

describe('the softphone page: lines, transfers, video, chat, history, devices', () => {
  it('answers a second call with the first on hold, then joins them by attended transfer', async () => {
    const [ann, ben, cat] = await pages('ann', 'ben', 'cat');
    await callAndAnswer(ann, ben, 'ben');
    await cat.getByTestId('dial-input').fill('ann');
    await cat.getByTestId('dial-button').click();
    await ann.getByTestId('answer-button').click({ timeout: 10_000 });
    await expectText(cat, 'call-state', 'active');
    expect(await ann.getByTestId('lines').locator('li').allTextContents()).toEqual([
      expect.stringMatching(/ben.* — held$/),
      expect.stringMatching(/cat.* — active$/),
    ]);
    await ann.getByTestId('attended-transfer-button').click();
    // Ben calls Cat with Replaces; Cat's phone swaps the calls without ringing.
    await expectText(ann, 'call-state', /^ended/);
    await expectText(ben, 'call-state', 'active');
    await expectText(cat, 'call-state', 'active');
    expect(await waitForAudio(cat, 5000)).toBeGreaterThan(5000);
    const remote = await cat.evaluate(
      () => (window as unknown as { ringway: { current(): { remote: string } } }).ringway.current().remote,
    );
    expect(remote).toContain('ben');
    await closeAll(ann, ben, cat);
  }, 60_000);

  it('makes a video call when asked, video flows, and audio and video share one bundled transport', async () => {
    const [vic, wes] = await pages('vic', 'wes');
    await vic.getByTestId('video-checkbox').check();
    await callAndAnswer(vic, wes, 'wes');
    const videoBytes = () =>
      wes.evaluate(async () => {
        const call = (
          window as unknown as { ringway: { current(): { peerConnection: RTCPeerConnection } } }
        ).ringway.current();
        let bytes = 0;
        (await call.peerConnection.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') bytes += r.bytesReceived;
        });
        return bytes;
      });
    const received = await eventually(
      videoBytes,
      (bytes) => bytes > 10_000,
      (bytes) => `only ${bytes} bytes of video received`,
    );
    expect(received).toBeGreaterThan(10_000);
    // Between browsers the call still bundles (RFC 8843): one ICE/DTLS transport for both media.
    for (const page of [vic, wes]) {
      const { transports, bundled } = await page.evaluate(async () => {
        const call = (
          window as unknown as { ringway: { current(): { peerConnection: RTCPeerConnection } } }
        ).ringway.current();
        let count = 0;
        (await call.peerConnection.getStats()).forEach((r) => {
          if (r.type === 'transport') count += 1;
        });
        const sdp = call.peerConnection.remoteDescription?.sdp ?? '';
        return { transports: count, bundled: /^a=group:BUNDLE \S+ \S+/m.test(sdp) };
      });
      expect({ transports, bundled }).toEqual({ transports: 1, bundled: true });
    }
    await closeAll(vic, wes);
  }, 60_000);

  it('sends a chat MESSAGE, lists devices and keeps the call in history', async () => {
    const [xia, yan] = await pages('xia', 'yan');
    await xia.getByTestId('chat-to').fill('yan');
    await xia.getByTestId('chat-text').fill('hello yan');
    await xia.getByTestId('chat-send').click();
    await expectText(yan, 'chat-log', /xia.*: hello yan/);
    expect(await xia.getByTestId('input-device').locator('option').count()).toBeGreaterThan(0);
    // Chromium lists its speakers: a list, no "Choose speaker" (that is for Firefox before it lists any).
    expect(await xia.getByTestId('output-device').locator('option').count()).toBeGreaterThan(0);
    expect(await xia.getByTestId('output-device').isVisible()).toBe(true);
    expect(await xia.getByTestId('choose-speaker-button').isVisible()).toBe(false);
    await callAndAnswer(xia, yan, 'yan');
    await xia.getByTestId('mute-button').click();
    expect(await xia.getByTestId('mute-button').getAttribute('aria-pressed')).toBe('true');
    await yan.getByTestId('hangup-button').click();
    await expectText(xia, 'history-list', /yan.*the other side hung up/);
    await closeAll(xia, yan);
  }, 60_000);
});
