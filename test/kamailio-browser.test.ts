import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { audioFlows, connect, startSoftphonePages } from './support/softphone-pages.js';

const SECRET = 'kamailio-browser-secret-0123456789';
let kamailio: RunningKamailio;
let gateway: RunningGateway;
let browser: Awaited<ReturnType<typeof startSoftphonePages>>;

beforeAll(async () => {
  kamailio = await startKamailio({ secret: SECRET, sipDomain: 'ringway.test' });
  gateway = await startUpstreamGateway(kamailio.udp);
  browser = await startSoftphonePages();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await kamailio?.stop();
});

describe('two Chromium softphones through the gateway in upstream mode and Kamailio', () => {
  // Ringway's own phone on one side of every call; SIP.js and JsSIP pages as interop peers.
  it.each([
    { caller: 'ringway', callee: 'ringway' },
    { caller: 'ringway', callee: 'sipjs' },
    { caller: 'jssip', callee: 'ringway' },
  ] as const)(
    '$caller calls $callee: both register through the gateway with Path, and RTP flows both ways',
    async ({ caller, callee }) => {
      const credential = (user: string) => {
        const issued = issueEphemeralCredential(SECRET, user, 300);
        return { username: issued.username, password: issued.password };
      };
      const a = await browser.phone(caller, `${caller}-k-a`, gateway.wsUrl, credential(`${caller}-k-a`));
      const b = await browser.phone(callee, `${callee}-k-b`, gateway.wsUrl, credential(`${callee}-k-b`));
      await connect(a, b, `sip:${callee}-k-b@ringway.test`);
      expect(await audioFlows(a)).toBeGreaterThan(1000);
      expect(await audioFlows(b)).toBeGreaterThan(1000);
      await a.evaluate(() => window.phone.hangup());
      await a.context().close();
      await b.context().close();
    },
    30_000,
  );
});
