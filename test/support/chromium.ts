import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from './chromium-args.mjs';

/** Debian's Chromium, headless, with the flags of chromium-args.mjs. The suites that use it run in a lo-only network namespace. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}
