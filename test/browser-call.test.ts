import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { startPhonePageServer } from './support/phone-page-server.js';

let gateway: RunningGateway;
let pages: Awaited<ReturnType<typeof startPhonePageServer>>;
let browser: Browser;

beforeAll(async () => {
  gateway = await startGateway();
  pages = await startPhonePageServer();
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await gateway?.close();
});

/** A softphone page in its own browser context, registered as `user`. */
async function phone(library: 'sipjs' | 'jssip', user: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${user}] page error`, error));
  await page.goto(pages.url);
  await page.evaluate(([l, u, ws]) => window.phone.start(l, u, ws, 'ringway.test'), [
    library,
    user,
    gateway.wsUrl,
  ] as const);
  return page;
}

async function audioFlows(page: Page): Promise<number> {
  await page.waitForFunction(async () => (await window.phone.audioBytesReceived()) > 0, undefined, {
    timeout: 10_000,
  });
  return page.evaluate(() => window.phone.audioBytesReceived());
}

describe('browser softphones through the gateway', () => {
  it.each([
    { callerName: 'SIP.js', callerLib: 'sipjs', calleeName: 'SIP.js', calleeLib: 'sipjs' },
    { callerName: 'JsSIP', callerLib: 'jssip', calleeName: 'SIP.js', calleeLib: 'sipjs' },
  ] as const)(
    '$callerName calls $calleeName in Chromium and RTP flows both ways',
    async ({ callerLib, calleeLib }) => {
      const caller = await phone(callerLib, `${callerLib}-caller`);
      const callee = await phone(calleeLib, `${calleeLib}-callee`);
      await caller.evaluate((target) => window.phone.dial(target), `sip:${calleeLib}-callee@ringway.test`);
      await callee.evaluate(() => window.phone.answer());
      await caller.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
      await callee.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
      expect(await audioFlows(caller)).toBeGreaterThan(0);
      expect(await audioFlows(callee)).toBeGreaterThan(0);
      await caller.evaluate(() => window.phone.hangup());
      await caller.context().close();
      await callee.context().close();
    },
    30_000,
  );
});

declare global {
  interface Window {
    phone: {
      start(library: string, user: string, wsServer: string, domain: string): Promise<void>;
      dial(target: string): Promise<void>;
      answer(): Promise<void>;
      established(): boolean;
      hangup(): unknown;
      audioBytesReceived(): Promise<number>;
    };
  }
}
