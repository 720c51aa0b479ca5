import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { audioFlows, connect, startSoftphonePages } from './support/softphone-pages.js';

let browser: Awaited<ReturnType<typeof startSoftphonePages>>;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  browser = await startSoftphonePages();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(gateways.map((g) => g.close()));
});

async function gatewayWithPolicy(policy: object): Promise<RunningGateway> {
  const gateway = await startGateway({ CODEC_POLICY_BROWSER: JSON.stringify(policy) });
  gateways.push(gateway);
  return gateway;
}

/**
 * The codecs a page sends and receives. Between beeps the fake microphone is silent and G.711
 * sends comfort noise, whose packets name no audio codec: poll until both directions name one.
 */
async function usedCodecs(page: Page): Promise<{ inbound?: string; outbound?: string }> {
  let used = await page.evaluate(() => window.phone.audioCodecs());
  for (let attempt = 0; attempt < 100 && !(used.inbound && used.outbound); attempt++) {
    await page.waitForTimeout(50);
    used = await page.evaluate(() => window.phone.audioCodecs());
  }
  return used;
}

// Ringway's own Phone is always the caller; the callee is Ringway's too, or a plain SIP.js page as
// an interop peer.
const CALLEES = ['ringway', 'sipjs'] as const;

describe('the gateway’s codec policy between two Chromium softphones', () => {
  it.each(CALLEES)(
    'with a PCMU-only policy Ringway’s phone and a %s callee both send and receive PCMU, and audio flows',
    async (callee) => {
      const gateway = await gatewayWithPolicy({ allow: ['PCMU'] });
      const caller = await browser.phone('ringway', `pcmu-caller-${callee}`, gateway.wsUrl);
      const answerer = await browser.phone(callee, `pcmu-callee-${callee}`, gateway.wsUrl);
      await connect(caller, answerer, `sip:pcmu-callee-${callee}@ringway.test`);
      expect(await audioFlows(caller)).toBeGreaterThan(0);
      expect(await audioFlows(answerer)).toBeGreaterThan(0);
      for (const page of [caller, answerer]) {
        expect(await usedCodecs(page)).toEqual({ inbound: 'audio/PCMU', outbound: 'audio/PCMU' });
      }
      await caller.evaluate(() => window.phone.hangup());
    },
    30_000,
  );

  it.each(CALLEES)(
    'Ringway’s phone applies the same policy in the browser (@ringway/sdp’s modifier): a PCMA-only caller makes a %s callee use PCMA too',
    async (callee) => {
      const gateway = await gatewayWithPolicy({});
      const caller = await browser.phone('ringway', `pcma-caller-${callee}`, gateway.wsUrl);
      const answerer = await browser.phone(callee, `pcma-callee-${callee}`, gateway.wsUrl);
      await caller.evaluate(
        (t) => window.phone.dial(t, { allow: ['PCMA'] }),
        `sip:pcma-callee-${callee}@ringway.test`,
      );
      await answerer.evaluate(() => window.phone.answer());
      await caller.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
      expect(await audioFlows(answerer)).toBeGreaterThan(0);
      expect(await usedCodecs(answerer)).toEqual({ inbound: 'audio/PCMA', outbound: 'audio/PCMA' });
      await caller.evaluate(() => window.phone.hangup());
    },
    30_000,
  );

  it('Ringway’s phone whose offer has no allowed codec gets 488, the Warning naming the codecs, and says “no common codec”', async () => {
    const gateway = await gatewayWithPolicy({ allow: ['G729'] });
    const caller = await browser.phone('ringway', 'g729-caller', gateway.wsUrl);
    await browser.phone('ringway', 'g729-callee', gateway.wsUrl);
    await caller.evaluate((t) => window.phone.dial(t), 'sip:g729-callee@ringway.test');
    await caller.waitForFunction(() => window.phone.failure() !== undefined, undefined, { timeout: 10_000 });
    const failure = await caller.evaluate(() => window.phone.failure());
    expect(failure?.status).toBe(488);
    expect(failure?.warning).toMatch(
      /^305 ringway "Incompatible media format: offered .*opus\/48000\/2.*; allowed G729\/8000"$/,
    );
    expect(await caller.evaluate(() => window.phone.callState())).toBe('failed: no common codec (488)');
  }, 30_000);
});
