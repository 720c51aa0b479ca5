import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium, headless, with a fake microphone and loopback ICE candidates allowed
 * (without --allow-loopback-in-peer-connection Chromium gathers none on `lo`, and media would
 * try to leave loopback). The suites that use it run in a lo-only network namespace.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}
