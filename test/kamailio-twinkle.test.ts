import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type MediaStack, startMediaStack } from './support/media-stack.js';
import { audible, audioFlows, phoneHears, startSoftphonePages } from './support/softphone-pages.js';
import { type RunningTwinkle, startTwinkle } from './support/twinkle.js';

// Ringway's own phone and Twinkle 1.10 (plain SIP over UDP, audio through a user-mode PulseAudio)
// through the gateway in upstream mode, Kamailio and rtpengine, both ways, audio checked at both ends.
let stack: MediaStack;
let twinkle: RunningTwinkle;
let browser: Awaited<ReturnType<typeof startSoftphonePages>>;
const credential = (user: string) => stack.credential(user);

beforeAll(async () => {
  stack = await startMediaStack('kamailio-twinkle-secret-0123456789');
  twinkle = await startTwinkle({
    user: 'tw',
    domain: 'ringway.test',
    proxy: stack.kamailio.udp,
    credential: credential('tw'),
  });
  await twinkle.printed(/tw: registration succeeded/);
  browser = await startSoftphonePages();
}, 40_000);

afterAll(async () => {
  await browser?.close();
  await twinkle?.stop();
  await stack?.stop();
});

const twinkleHears = () => phoneHears(twinkle, 'Twinkle');

describe('Ringway’s phone and Twinkle through gateway, Kamailio and rtpengine', () => {
  it('the page calls Twinkle: it answers, each hears the other, DTMF by INFO reaches it, the page hangs up', async () => {
    const page = await browser.phone('ringway', 'quinn', stack.gateway.wsUrl, credential('quinn'));
    await page.evaluate(() => window.phone.dial('sip:tw@ringway.test'));
    await twinkle.printed(/Line \d: incoming call/);
    twinkle.command('answer');
    await page.waitForFunction(() => window.phone.established(), undefined, { timeout: 15_000 });
    expect(await audioFlows(page)).toBeGreaterThan(1000);
    expect(await audible(page)).toBeGreaterThan(0.01);
    expect(await twinkleHears()).toBeGreaterThan(1000);
    // DTMF by SIP INFO reaches it (Twinkle reports the digit).
    await page.evaluate(() => window.phone.sendDtmf('7', 'info'));
    await twinkle.printed(/Line \d: DTMF detected: 7/);
    await page.evaluate(() => window.phone.hangup());
    await twinkle.printed(/Line \d: far end ended call/);
    await page.context().close();
  }, 40_000);

  it('Twinkle calls the page: it answers, each hears the other, Twinkle hangs up', async () => {
    const page = await browser.phone('ringway', 'ray', stack.gateway.wsUrl, credential('ray'));
    twinkle.command('call sip:ray@ringway.test');
    await page.evaluate(() => window.phone.answer());
    await page.waitForFunction(() => window.phone.established(), undefined, { timeout: 15_000 });
    expect(await audioFlows(page)).toBeGreaterThan(1000);
    expect(await audible(page)).toBeGreaterThan(0.01);
    expect(await twinkleHears()).toBeGreaterThan(1000);
    twinkle.command('bye');
    await page.waitForFunction(() => /^ended/.test(window.phone.callState() ?? ''), undefined, {
      timeout: 10_000,
    });
    await page.context().close();
  }, 40_000);
});
