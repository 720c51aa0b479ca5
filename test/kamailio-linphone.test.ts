import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { eventually } from './support/eventually.js';
import { type RunningLinphone, startLinphone } from './support/linphone.js';
import { type MediaStack, startMediaStack } from './support/media-stack.js';
import { audible, audioFlows, phoneHears, startSoftphonePages } from './support/softphone-pages.js';

// Ringway's own phone and linphone (liblinphone 5.1, plain SIP over UDP, registered with a GRUU)
// through the gateway in upstream mode, Kamailio and rtpengine, both ways, audio checked at both ends.
const SECRET = 'kamailio-linphone-secret-0123456789';
let stack: MediaStack;
let linphone: RunningLinphone;
let browser: Awaited<ReturnType<typeof startSoftphonePages>>;
const credential = (user: string) => stack.credential(user);

beforeAll(async () => {
  stack = await startMediaStack(SECRET);
  linphone = await startLinphone({
    user: 'lin',
    domain: 'ringway.test',
    registrar: stack.kamailio.udp,
    credential: credential('lin'),
  });
  await linphone.registered();
  browser = await startSoftphonePages();
}, 40_000);

afterAll(async () => {
  await browser?.close();
  await linphone?.stop();
  await stack?.stop();
});

const linphoneHears = () => phoneHears(linphone, 'linphone');

describe('Ringway’s phone and linphone through gateway, Kamailio and rtpengine', () => {
  it('the page calls linphone (a GRUU contact): it answers, each hears the other; hold, resume, DTMF (RFC 4733 and INFO) reach it; the page hangs up', async () => {
    const page = await browser.phone('ringway', 'mia', stack.gateway.wsUrl, credential('mia'));
    await page.evaluate(() => window.phone.dial('sip:lin@ringway.test'));
    await page.waitForFunction(() => window.phone.established(), undefined, { timeout: 15_000 });
    expect(await audioFlows(page)).toBeGreaterThan(1000);
    expect(await audible(page)).toBeGreaterThan(0.01);
    expect(await linphoneHears()).toBeGreaterThan(1000);
    // Hold and resume: linphone sees the call paused (our sendonly offer), then its media again.
    await page.evaluate(() => window.phone.hold());
    await linphone.printed(/Call \d+ has been paused by sip:mia@/);
    await page.evaluate(() => window.phone.resume());
    await linphone.printed(
      /has been paused by sip:mia@[^\n]*\n[\s\S]*Media streams established with sip:mia@/,
    );
    // DTMF both ways a PBX takes it: RFC 4733 events in the media, and SIP INFO.
    await page.evaluate(() => window.phone.sendDtmf('5', 'rfc4733'));
    await page.evaluate(() => window.phone.sendDtmf('7', 'info'));
    await linphone.printed(/Receiving tone 5 from sip:mia@/);
    await linphone.printed(/Receiving tone 7 from sip:mia@/);
    await page.evaluate(() => window.phone.hangup());
    await linphone.printed(/Call \d+ with sip:mia@\S+ ended/);
    await page.context().close();
  }, 40_000);

  it('linphone calls the page: it answers, each hears the other, linphone hangs up', async () => {
    const page = await browser.phone('ringway', 'noa', stack.gateway.wsUrl, credential('noa'));
    linphone.command('call sip:noa@ringway.test --audio-only');
    await page.evaluate(() => window.phone.answer());
    await page.waitForFunction(() => window.phone.established(), undefined, { timeout: 15_000 });
    await linphone.printed(/Call \d+ with sip:noa@\S+ connected/);
    expect(await audioFlows(page)).toBeGreaterThan(1000);
    expect(await audible(page)).toBeGreaterThan(0.01);
    expect(await linphoneHears()).toBeGreaterThan(1000);
    linphone.command('terminate');
    await page.waitForFunction(() => /^ended/.test(window.phone.callState() ?? ''), undefined, {
      timeout: 10_000,
    });
    await page.context().close();
  }, 40_000);

  it('with the upstream codec policy allowing only PCMA, the call with linphone runs on PCMA both ways', async () => {
    const pcmaOnly = await startUpstreamGateway(stack.kamailio.udp, {
      AUTH_SECRET: SECRET,
      CODEC_POLICY_UPSTREAM: JSON.stringify({ allow: ['PCMA/8000'] }),
    });
    try {
      const page = await browser.phone('ringway', 'oli', pcmaOnly.wsUrl, credential('oli'));
      await page.evaluate(() => window.phone.dial('sip:lin@ringway.test'));
      await page.waitForFunction(() => window.phone.established(), undefined, { timeout: 15_000 });
      expect(await audioFlows(page)).toBeGreaterThan(1000);
      // What the page sends and what it receives (linphone's RTP, passed on by rtpengine): payload 8.
      const used = await eventually(
        () => page.evaluate(() => window.phone.audioCodecs()),
        (codecs) => codecs.inbound !== undefined && codecs.outbound !== undefined,
        (codecs) => `codecs in use: ${JSON.stringify(codecs)}`,
      );
      expect(used).toEqual({ inbound: 'audio/PCMA', outbound: 'audio/PCMA' });
      expect(await linphoneHears()).toBeGreaterThan(1000);
      await page.evaluate(() => window.phone.hangup());
      await linphone.printed(/Call \d+ with sip:oli@\S+ ended/);
      await page.context().close();
    } finally {
      await pcmaOnly.close();
    }
  }, 40_000);

  it('an offer the upstream policy leaves empty gets the gateway’s own 488, shown on the page as no common codec', async () => {
    const g729Only = await startUpstreamGateway(stack.kamailio.udp, {
      AUTH_SECRET: SECRET,
      CODEC_POLICY_UPSTREAM: JSON.stringify({ allow: ['G729/8000'] }),
    });
    try {
      const page = await browser.phone('ringway', 'pia', g729Only.wsUrl, credential('pia'));
      await page.evaluate(() => window.phone.dial('sip:lin@ringway.test'));
      await page.waitForFunction(
        () => /^failed: no common codec \(488\)/.test(window.phone.callState() ?? ''),
        undefined,
        {
          timeout: 10_000,
        },
      );
      await page.context().close();
    } finally {
      await g729Only.close();
    }
  }, 30_000);
});
