import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { audioFlows, connect, startSoftphonePages } from './support/softphone-pages.js';

let gateway: RunningGateway;
let browser: Awaited<ReturnType<typeof startSoftphonePages>>;

beforeAll(async () => {
  gateway = await startGateway();
  browser = await startSoftphonePages();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

describe('browser softphones through the gateway', () => {
  // Ringway's own phone on one side of every call; SIP.js and JsSIP pages as interop peers.
  it.each([
    { callerName: 'Ringway', callerLib: 'ringway', calleeName: 'SIP.js', calleeLib: 'sipjs' },
    { callerName: 'JsSIP', callerLib: 'jssip', calleeName: 'Ringway', calleeLib: 'ringway' },
  ] as const)(
    '$callerName calls $calleeName in Chromium and RTP flows both ways',
    async ({ callerLib, calleeLib }) => {
      const caller = await browser.phone(callerLib, `${callerLib}-caller`, gateway.wsUrl);
      const callee = await browser.phone(calleeLib, `${calleeLib}-callee`, gateway.wsUrl);
      await connect(caller, callee, `sip:${calleeLib}-callee@ringway.test`);
      expect(await audioFlows(caller)).toBeGreaterThan(0);
      expect(await audioFlows(callee)).toBeGreaterThan(0);
      await caller.evaluate(() => window.phone.hangup());
      await caller.context().close();
      await callee.context().close();
    },
    30_000,
  );
});
