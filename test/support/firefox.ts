import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Page as PlaywrightPage } from 'playwright-core';
import puppeteer, {
  type BrowserContext,
  type Browser as FirefoxBrowser,
  type KeyInput,
  type Page as PuppeteerPage,
} from 'puppeteer-core';
import { eventually } from './eventually.js';
import { withLogsOnFailure } from './logs-on-failure.js';

export type { FirefoxBrowser };

/**
 * What Firefox needs to call from a test: fake microphone and camera without a prompt, and ICE
 * candidates inside the test's network namespace. Without the last three Firefox gathers no
 * candidate at all there (the call fails at once with "ICE failed"); it also needs a non-loopback
 * interface with a default route (scripts/in-loopback-namespace.sh makes one that leads nowhere).
 */
export const FIREFOX_PREFS: Record<string, unknown> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'network.process.enabled': false,
  'media.peerconnection.mtransport_process': false,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
};

/**
 * A PulseAudio of its own with one null sink, for Firefox: without a sound device Firefox's
 * AudioContext never starts (resume() does not settle: level meters at 0, a silent ring tone) and
 * it lists no speaker. Chromium has a fake output of its own. Undefined where PulseAudio is missing.
 */
async function privatePulseAudio(): Promise<{ env: Record<string, string>; stop(): void } | undefined> {
  const home = mkdtempSync(join(tmpdir(), 'ringway-firefox-pulse-'));
  const socket = join(home, 'native');
  const env = { HOME: home, XDG_RUNTIME_DIR: home, PULSE_SERVER: `unix:${socket}` };
  const pulse = spawn(
    'pulseaudio',
    [
      '--daemonize=no',
      '--exit-idle-time=-1',
      '--disallow-exit',
      '-n',
      '--use-pid-file=no',
      '--load=module-null-sink sink_name=speaker',
      `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
    ],
    { env: { ...process.env, ...env }, stdio: 'ignore' },
  );
  const failed = new Promise<boolean>((resolve) => {
    pulse.once('error', () => resolve(true));
    pulse.once('exit', () => resolve(true));
  });
  for (const deadline = Date.now() + 10_000; !existsSync(socket); ) {
    if (Date.now() > deadline || (await Promise.race([failed, delay(50).then(() => false)]))) {
      pulse.kill();
      rmSync(home, { recursive: true, force: true });
      console.warn('launchFirefox: no PulseAudio, so Firefox has no sound device (level meters stay at 0)');
      return undefined;
    }
  }
  const stop = () => {
    pulse.kill();
    rmSync(home, { recursive: true, force: true });
    process.off('exit', stop);
  };
  // Not left behind by a test run that ends without closing its browser.
  process.once('exit', stop);
  return { env: { PULSE_SERVER: env.PULSE_SERVER }, stop };
}

/**
 * Debian's Firefox ESR, headless, driven by puppeteer-core over WebDriver BiDi, with a private
 * PulseAudio (stopped when the browser closes), `extraPrefs` added to FIREFOX_PREFS (e.g. the
 * system's dark mode: WebDriver BiDi cannot emulate media features). Suites that use it run in the
 * test namespace.
 */
export async function launchFirefox(
  extraPrefs: Record<string, unknown> = {},
  options: {
    /** A sound device (the private PulseAudio); false: none, as on a machine without one. Default true. */
    sound?: boolean;
  } = {},
): Promise<FirefoxBrowser> {
  const pulse = options.sound === false ? undefined : await privatePulseAudio();
  try {
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
      headless: true,
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...extraPrefs },
      env: { ...process.env, ...pulse?.env } as Record<string, string>,
    });
    browser.once('disconnected', () => pulse?.stop());
    return browser;
  } catch (error) {
    pulse?.stop();
    throw error;
  }
}

/**
 * The few things a page test does to Ringway's page, the same in both browsers: a test written
 * against this runs with either on either side of a call.
 */
export interface SoftphonePage {
  readonly browser: 'chromium' | 'firefox';
  readonly user: string;
  fill(testId: string, text: string): Promise<void>;
  click(testId: string): Promise<void>;
  /** The element's text, '' when it is not there. */
  text(testId: string): Promise<string>;
  attribute(testId: string, name: string): Promise<string | null>;
  /** Presses a key (e.g. 'Enter', 'Escape', '/', 'a') where the focus is. */
  press(key: string): Promise<void>;
  /** Types text where the focus is. */
  type(text: string): Promise<void>;
  /** How many elements match a CSS selector now. */
  count(selector: string): Promise<number>;
  /** Loads a script file into the page (e.g. axe-core). */
  addScript(path: string): Promise<void>;
  /** Runs `fn` in the page (serialised: it must not close over anything). */
  evaluate<T>(fn: () => T | Promise<T>): Promise<T>;
  screenshot(): Promise<Uint8Array>;
  /** Closes the page and its browser context. */
  close(): Promise<void>;
}

const byTestId = (testId: string) => `[data-testid="${testId}"]`;

/** A playwright (Chromium) page behind the common interface. */
export function playwrightSoftphone(page: PlaywrightPage, user: string): SoftphonePage {
  return {
    browser: 'chromium',
    user,
    fill: (testId, text) => page.getByTestId(testId).fill(text),
    click: (testId) => page.getByTestId(testId).click({ timeout: 10_000 }),
    text: async (testId) =>
      (await page.locator(byTestId(testId)).count())
        ? ((await page.getByTestId(testId).textContent()) ?? '')
        : '',
    attribute: (testId, name) => page.getByTestId(testId).getAttribute(name),
    press: (key) => page.keyboard.press(key),
    type: (text) => page.keyboard.type(text),
    count: (selector) => page.locator(selector).count(),
    addScript: async (path) => void (await page.addScriptTag({ path })),
    evaluate: (fn) => page.evaluate(fn),
    screenshot: () => page.screenshot({ fullPage: true }),
    close: () => page.context().close(),
  };
}

/** A puppeteer (Firefox) page behind the common interface. */
export function puppeteerSoftphone(
  page: PuppeteerPage,
  context: BrowserContext,
  user: string,
): SoftphonePage {
  return {
    browser: 'firefox',
    user,
    // A person looks at the tab they type in. Firefox does not run animation frames in a tab behind
    // another, and puppeteer's locators wait for two of them (a stable box): bring the tab forward.
    fill: async (testId, text) => {
      await page.bringToFront();
      await page.locator(byTestId(testId)).setTimeout(10_000).fill(text);
    },
    click: async (testId) => {
      await page.bringToFront();
      await page.locator(byTestId(testId)).setTimeout(10_000).click();
    },
    text: (testId) => page.evaluate((s) => document.querySelector(s)?.textContent ?? '', byTestId(testId)),
    attribute: (testId, name) =>
      page.evaluate((s, n) => document.querySelector(s)?.getAttribute(n) ?? null, byTestId(testId), name),
    press: async (key) => {
      await page.bringToFront();
      await page.keyboard.press(key as KeyInput);
    },
    type: async (text) => {
      await page.bringToFront();
      await page.keyboard.type(text);
    },
    count: (selector) => page.evaluate((s) => document.querySelectorAll(s).length, selector),
    addScript: async (path) => void (await page.addScriptTag({ path })),
    evaluate: (fn) => page.evaluate(fn) as Promise<never>,
    screenshot: () => page.screenshot({ fullPage: true }),
    close: () => context.close(),
  };
}

/** What a test may do to a Firefox page before it loads. */
export interface FirefoxPageOptions {
  /** Runs in the page before its own scripts (serialised), e.g. to give it another browser's API shape. */
  beforeLoad?: () => void;
}

/** `url` opened in Firefox in a browser context of its own; `user` names it in logs and failures. */
export async function openFirefoxPage(
  browser: FirefoxBrowser,
  user: string,
  url: string,
  { beforeLoad }: FirefoxPageOptions = {},
): Promise<SoftphonePage> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 900, height: 1000 });
  if (beforeLoad) await page.evaluateOnNewDocument(beforeLoad);
  page.on('pageerror', (error) => console.error(`[${user} firefox] page error`, error));
  if (process.env.PAGE_LOG) page.on('console', (m) => console.log(`[${user} firefox] ${m.text()}`));
  await page.goto(url);
  return puppeteerSoftphone(page, context, user);
}

/** The softphone page opened as `user` in Firefox, in a context of its own (`?user=` registers at once). */
export async function openFirefoxSoftphone(
  browser: FirefoxBrowser,
  baseUrl: string,
  user: string,
  options: FirefoxPageOptions = {},
): Promise<SoftphonePage> {
  const phone = await openFirefoxPage(browser, user, `${baseUrl}/?user=${encodeURIComponent(user)}`, options);
  await expectPageText(phone, 'registration-state', 'registered');
  return phone;
}

/** Signs in on the page's form in Firefox with a user name and password; does not wait for registration. */
export async function signInFirefoxWithPassword(
  browser: FirefoxBrowser,
  baseUrl: string,
  user: string,
  password: string,
): Promise<SoftphonePage> {
  const phone = await openFirefoxPage(browser, user, `${baseUrl}/`);
  await phone.fill('user-input', user);
  await phone.fill('password-input', password);
  await phone.click('register-button');
  return phone;
}

/** Waits until a data-testid element's text matches (trimmed equality for a string). */
export async function expectPageText(
  phone: SoftphonePage,
  testId: string,
  expected: string | RegExp,
  ms = 10_000,
): Promise<string> {
  const matches = (text: string) =>
    typeof expected === 'string' ? text.trim() === expected : expected.test(text);
  return eventually(
    () => phone.text(testId).catch(() => ''),
    matches,
    (text) => `[${phone.user} ${phone.browser}] ${testId} says "${text}", expected ${expected}`,
    { ms, everyMs: 25 },
  );
}

/** The caller dials `target`, the callee answers; both show "active". */
export async function dialAndAnswer(
  caller: SoftphonePage,
  callee: SoftphonePage,
  target: string,
): Promise<void> {
  await caller.fill('dial-input', target);
  await caller.click('dial-button');
  await callee.click('answer-button');
  // When a side is not active in time: which set-up steps each reached (ICE, DTLS…), from the
  // page's own waterfall of the call.
  const steps = (phone: SoftphonePage) => () =>
    phone.evaluate(() =>
      [...document.querySelectorAll('[data-testid="call-waterfall"] li')]
        .map((li) => li.textContent)
        .join(', '),
    );
  await withLogsOnFailure(
    { [`${caller.user}'s set-up steps`]: steps(caller), [`${callee.user}'s set-up steps`]: steps(callee) },
    async () => {
      await expectPageText(caller, 'call-state', 'active');
      await expectPageText(callee, 'call-state', 'active');
    },
  );
}

/** Waits until the page's current call has received more than `beyond` + 1000 audio bytes (its call-stats samples). */
export function audioBeyond(phone: SoftphonePage, beyond = 0, ms = 10_000): Promise<number> {
  return eventually(
    async () => Number((await phone.attribute('call-stats', 'data-bytes-received')) ?? 0),
    (bytes) => bytes > beyond + 1000,
    (bytes) => `[${phone.user} ${phone.browser}] only ${bytes} bytes of audio received (was ${beyond})`,
    { ms },
  );
}

/** Waits until the contact `address` on the page shows `presence` (its lamp's data-presence). */
export function expectLamp(
  phone: SoftphonePage,
  address: string,
  presence: string,
  ms = 15_000,
): Promise<number> {
  const selector = `[data-testid="contact"][data-address="${address}"][data-presence="${presence}"]`;
  return eventually(
    () => phone.count(selector),
    (n) => n > 0,
    () => `[${phone.user} ${phone.browser}] the lamp of ${address} is not ${presence}`,
    { ms },
  );
}
