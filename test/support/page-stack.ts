import type { Browser } from 'playwright-core';
import { type RunningGateway, startGateway } from '../../packages/gateway/test/support/gateway.js';
import { launchChromium } from './chromium.js';

/** What the page's own tests share: a gateway in loopback development mode serving the page, and a Chromium. */
export interface PageStack {
  gateway: RunningGateway;
  browser: Browser;
  /** The page's origin, e.g. http://127.0.0.1:PORT. */
  base: string;
  close(): Promise<void>;
}

export async function pageStack(): Promise<PageStack> {
  const gateway = await startGateway({ SIP_DOMAIN: '127.0.0.1' });
  const browser = await launchChromium();
  return {
    gateway,
    browser,
    base: `http://127.0.0.1:${gateway.port}`,
    close: async () => {
      await browser.close();
      await gateway.close();
    },
  };
}
