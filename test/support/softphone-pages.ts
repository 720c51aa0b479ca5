import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { eventually } from './eventually.js';
import { startPhonePageServer } from './phone-page-server.js';

/**
 * Chromium with the test phone page: `phone(library, user, wsUrl)` opens a page in its own
 * browser context and registers it. `close()` ends everything it started.
 */
export async function startSoftphonePages() {
  const pages = await startPhonePageServer();
  const browser: Browser = await launchChromium();
  return {
    /** The Chromium itself, for Ringway's own page beside the test pages. */
    browser,
    async phone(
      library: 'sipjs' | 'jssip' | 'ringway',
      user: string,
      wsUrl: string,
      credential?: { username: string; password: string },
    ): Promise<Page> {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`[${user}] page error`, error));
      await page.goto(pages.url);
      await page.evaluate(([l, u, ws, c]) => window.phone.start(l, u, ws, 'ringway.test', [], c), [
        library,
        user,
        wsUrl,
        credential,
      ] as const);
      return page;
    },
    async close() {
      await browser.close();
      await pages.close();
    },
  };
}

/**
 * Waits until the page has received more than a few packets of audio RTP and returns the bytes.
 * A single comfort-noise packet is 9 bytes: "> 0" would not prove that audio flows.
 */
export function audioFlows(page: Page, minimumBytes = 1000): Promise<number> {
  return eventually(
    () => page.evaluate(() => window.phone.audioBytesReceived()),
    (bytes) => bytes > minimumBytes,
    (bytes) => `only ${bytes} bytes of audio received in 10 s`,
  );
}

/** Waits until the page hears more than silence (a far end's tone) and returns the level. */
export function audible(page: Page): Promise<number> {
  return eventually(
    () => page.evaluate(() => window.phone.audioLevelReceived()),
    (level) => level > 0.01,
    (level) => `audio level only ${level} after 10 s`,
  );
}

/**
 * Waits until a SIP phone's recording of the call holds more than silence and returns its peak
 * (0…32767). Chromium's fake microphone beeps now and then: a recording of silence peaks near 0.
 */
export function phoneHears(phone: { receivedPeak(): number }, name: string): Promise<number> {
  return eventually(
    () => phone.receivedPeak(),
    (peak) => peak > 1000,
    (peak) => `${name}'s recording peaks at ${peak} after 10 s`,
  );
}

/** A dials B, B answers, both reach established. */
export async function connect(caller: Page, callee: Page, target: string): Promise<void> {
  await caller.evaluate((t) => window.phone.dial(t), target);
  await callee.evaluate(() => window.phone.answer());
  await caller.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
  await callee.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
}

declare global {
  interface Window {
    phone: {
      start(
        library: string,
        user: string,
        wsServer: string,
        domain: string,
        iceServers?: RTCIceServer[],
        credential?: { username: string; password: string },
      ): Promise<void>;
      dial(target: string, codecPolicy?: object): Promise<void>;
      answer(): Promise<void>;
      established(): boolean;
      callState(): string | undefined;
      mediaConnected(): boolean;
      hangup(): unknown;
      hold(): Promise<void>;
      resume(): Promise<void>;
      sendDtmf(digit: string, method: 'rfc4733' | 'info'): Promise<void>;
      audioBytesReceived(): Promise<number>;
      audioLevelReceived(): Promise<number>;
      failure(): { status: number; warning: string | undefined } | undefined;
      audioCodecs(): Promise<{ inbound?: string; outbound?: string }>;
    };
  }
}
