// Debian's Chromium as the benchmarks launch it: the tests' flags (test/support/chromium-args.mjs)
// and registered with cleanup.mjs, so that an interrupted or failing benchmark closes it with its
// servers. Playwright's own signal handlers are off (they would exit 130 once the browser is
// closed, before the servers are stopped); its 'exit' handler still SIGKILLs the browser's group.
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../test/support/chromium-args.mjs';
import { stopOnExit } from './cleanup.mjs';

/** Launches headless Chromium; close it with `browser.close()` as usual. */
export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const forget = stopOnExit('Chromium', () => browser.close());
  browser.once('disconnected', forget);
  return browser;
}
