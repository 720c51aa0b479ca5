import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { type RunningBaresip, startBaresip } from './support/baresip.js';
import { type MediaStack, startMediaStack } from './support/media-stack.js';
import { audible, audioFlows, phoneHears, startSoftphonePages } from './support/softphone-pages.js';

// Ringway's own phone and a plain-SIP phone: Chromium → gateway in upstream mode →
// Kamailio → rtpengine (WebRTC ↔ RTP/AVP) → baresip registered to Kamailio over UDP.
const SECRET = 'kamailio-rtpengine-secret-0123456789';
let stack: MediaStack;
let baresip: RunningBaresip;
let pbx: RunningBaresip;
let browser: Awaited<ReturnType<typeof startSoftphonePages>>;
const credential = (user: string) => stack.credential(user);

beforeAll(async () => {
  // A plain-SIP endpoint standing in for the PBX (no Asterisk in Debian): it does not register,
  // Kamailio's dispatcher sends it the numbers nobody registered; it answers 600 (baresip takes
  // only calls for its own user).
  pbx = await startBaresip({ user: '600', domain: '127.0.0.1' });
  stack = await startMediaStack(SECRET, { pbx: pbx.sip });
  baresip = await startBaresip({
    user: 'carol',
    domain: 'ringway.test',
    registration: { outbound: stack.kamailio.udp, credential: credential('carol') },
  });
  await baresip.registered();
  browser = await startSoftphonePages();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await baresip?.stop();
  await pbx?.stop();
  await stack?.stop();
});

const baresipHears = (phone: RunningBaresip = baresip) => phoneHears(phone, 'baresip');

describe('a browser softphone and baresip (plain SIP, RTP/AVP) through gateway, Kamailio and rtpengine', () => {
  it('the browser calls baresip: it answers, each hears the other; hold, resume and DTMF (RFC 4733, INFO) reach it', async () => {
    const page = await browser.phone('ringway', 'dave', stack.gateway.wsUrl, credential('dave'));
    await page.evaluate(() => window.phone.dial('sip:carol@ringway.test'));
    await page.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
    await baresip.event('CALL_ESTABLISHED');
    expect(await audioFlows(page)).toBeGreaterThan(1000);
    expect(await audible(page)).toBeGreaterThan(0.01);
    expect(await baresipHears()).toBeGreaterThan(1000);
    // Hold and resume reach baresip as new offers (the call's first offer, then two re-INVITEs).
    await page.evaluate(() => window.phone.hold());
    await page.evaluate(() => window.phone.resume());
    for (let offer = 0; offer < 3; offer++)
      expect((await baresip.event('CALL_REMOTE_SDP')).param).toBe('offer');
    // DTMF the two ways a PBX takes it: RFC 4733 events in the media, and SIP INFO.
    await page.evaluate(() => window.phone.sendDtmf('5', 'rfc4733'));
    await page.evaluate(() => window.phone.sendDtmf('7', 'info'));
    const digits = [
      (await baresip.event('CALL_DTMF_START')).param,
      (await baresip.event('CALL_DTMF_START')).param,
    ];
    expect(digits.sort()).toEqual(['5', '7']);
    await page.evaluate(() => window.phone.hangup());
    await baresip.event('CALL_CLOSED');
    await page.context().close();
  }, 30_000);

  it('baresip calls the browser: it answers, each hears the other, baresip hangs up', async () => {
    const page = await browser.phone('ringway', 'erin', stack.gateway.wsUrl, credential('erin'));
    baresip.command('dial', 'sip:erin@ringway.test');
    await page.evaluate(() => window.phone.answer());
    await page.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
    await baresip.event('CALL_ESTABLISHED');
    expect(await audioFlows(page)).toBeGreaterThan(1000);
    expect(await audible(page)).toBeGreaterThan(0.01);
    expect(await baresipHears()).toBeGreaterThan(1000);
    baresip.command('hangup');
    await baresip.event('CALL_CLOSED');
    await page.waitForFunction(() => /^ended/.test(window.phone.callState() ?? ''), undefined, {
      timeout: 10_000,
    });
    await page.context().close();
  }, 30_000);

  it('the browser dials a number nobody registered: Kamailio’s dispatcher sends it to the PBX, which answers', async () => {
    const page = await browser.phone('ringway', 'frank', stack.gateway.wsUrl, credential('frank'));
    await page.evaluate(() => window.phone.dial('sip:600@ringway.test'));
    await page.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
    await pbx.event('CALL_ESTABLISHED');
    expect(await audioFlows(page)).toBeGreaterThan(1000);
    expect(await audible(page)).toBeGreaterThan(0.01);
    expect(await baresipHears(pbx)).toBeGreaterThan(1000);
    await page.evaluate(() => window.phone.hangup());
    await pbx.event('CALL_CLOSED');
    await page.context().close();
  }, 30_000);

  it('an Opus-only offer to baresip (G.711 only) gets the phone’s 488, shown on the page as no common codec', async () => {
    const opusOnly = await startUpstreamGateway(stack.kamailio.udp, {
      CODEC_POLICY_UPSTREAM: JSON.stringify({ allow: ['opus/48000/2'] }),
    });
    try {
      const page = await browser.phone('ringway', 'gus', opusOnly.wsUrl, credential('gus'));
      await page.evaluate(() => window.phone.dial('sip:carol@ringway.test'));
      await page.waitForFunction(
        () => /^failed: no common codec \(488\)/.test(window.phone.callState() ?? ''),
        undefined,
        { timeout: 10_000 },
      );
      await page.context().close();
    } finally {
      await opusOnly.close();
    }
  }, 30_000);
});
