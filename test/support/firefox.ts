import type { Page as PlaywrightPage } from 'playwright-core';
import puppeteer, {
  type BrowserContext,
  type Browser as FirefoxBrowser,
  type Page as PuppeteerPage,
} from 'puppeteer-core';
import { eventually } from './eventually.js';

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

/** Debian's Firefox ESR, headless, driven by puppeteer-core over WebDriver BiDi. Suites that use it run in the test namespace. */
export function launchFirefox(): Promise<FirefoxBrowser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
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
    fill: (testId, text) => page.locator(byTestId(testId)).setTimeout(10_000).fill(text),
    click: (testId) => page.locator(byTestId(testId)).setTimeout(10_000).click(),
    text: (testId) => page.evaluate((s) => document.querySelector(s)?.textContent ?? '', byTestId(testId)),
    attribute: (testId, name) =>
      page.evaluate((s, n) => document.querySelector(s)?.getAttribute(n) ?? null, byTestId(testId), name),
    evaluate: (fn) => page.evaluate(fn) as Promise<never>,
    screenshot: () => page.screenshot({ fullPage: true }),
    close: () => context.close(),
  };
}

async function firefoxPage(browser: FirefoxBrowser, user: string, url: string): Promise<SoftphonePage> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 900, height: 1000 });
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
): Promise<SoftphonePage> {
  const phone = await firefoxPage(browser, user, `${baseUrl}/?user=${encodeURIComponent(user)}`);
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
  const phone = await firefoxPage(browser, user, `${baseUrl}/`);
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
  await expectPageText(caller, 'call-state', 'active');
  await expectPageText(callee, 'call-state', 'active');
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
