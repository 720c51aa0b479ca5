import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually } from './eventually.js';

/**
 * The softphone page of a gateway, opened as `user` in its own browser context (`?user=` registers
 * at once); `prepare` sets up the context before the page loads (e.g. watchMicrophoneTracks).
 */
export async function openSoftphone(
  browser: Browser,
  baseUrl: string,
  user: string,
  prepare?: (context: BrowserContext) => Promise<void>,
): Promise<Page> {
  const context = await browser.newContext();
  await prepare?.(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${user}] page error`, error));
  if (process.env.PAGE_LOG) page.on('console', (m) => console.log(`[${user}] ${m.text()}`));
  await page.goto(`${baseUrl}/?user=${encodeURIComponent(user)}`);
  await expectText(page, 'registration-state', 'registered');
  return page;
}

/** Waits until a data-testid element's text matches. */
export async function expectText(
  page: Page,
  testId: string,
  expected: string | RegExp,
  timeout = 10_000,
): Promise<void> {
  const locator = page.getByTestId(testId);
  const matches = (text: string) =>
    typeof expected === 'string' ? text.trim() === expected : expected.test(text);
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = (await locator.textContent()) ?? '';
    if (matches(text)) return;
    if (Date.now() > deadline)
      throw new Error(`${testId} says "${text}"${await reasonBeside(page, testId)}, expected ${expected}`);
    await page.waitForTimeout(25);
  }
}

/** The reason a state badge's page shows beside it (registration-reason for registration-state…). */
async function reasonBeside(page: Page, stateTestId: string): Promise<string> {
  if (!stateTestId.endsWith('-state')) return '';
  const reason = page.getByTestId(stateTestId.replace(/-state$/, '-reason'));
  if ((await reason.count()) === 0) return '';
  const text = ((await reason.textContent()) ?? '').trim();
  return text ? ` (${text})` : '';
}

/** A dials `target` from the page; B answers from its page; both show "active". */
export async function callAndAnswer(caller: Page, callee: Page, target: string): Promise<void> {
  await caller.getByTestId('dial-input').fill(target);
  await caller.getByTestId('dial-button').click();
  await callee.getByTestId('answer-button').click({ timeout: 10_000 });
  await expectText(caller, 'call-state', 'active');
  await expectText(callee, 'call-state', 'active');
}

/** Audio RTP bytes the page's current call has received (from its one-second quality samples). */
export async function waitForAudio(page: Page, minimumBytes = 1000): Promise<number> {
  const stats = page.getByTestId('call-stats');
  return eventually(
    async () => Number((await stats.getAttribute('data-bytes-received')) ?? 0),
    (bytes) => bytes > minimumBytes,
    (bytes) => `only ${bytes} bytes of audio received`,
  );
}

/** Audio bytes the page's current call has received so far (getStats, read at once). */
export function audioBytesReceived(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const ringway = (window as unknown as { ringway: { current(): { peerConnection?: RTCPeerConnection } } })
      .ringway;
    let bytes = 0;
    (await ringway.current().peerConnection?.getStats())?.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') bytes += r.bytesReceived ?? 0;
    });
    return bytes;
  });
}

/** Waits until the page's call has received more than 1000 audio bytes beyond `bytes`. */
export function audioGrowsBeyond(page: Page, bytes: number): Promise<number> {
  return eventually(
    () => audioBytesReceived(page),
    (now) => now > bytes + 1000,
    (now) => `audio stuck at ${now} bytes (was ${bytes})`,
  );
}

/** Signs in on the page's form with a user name and password (password sign-in, /api/sign-in). */
export async function signInWithPassword(
  browser: Browser,
  baseUrl: string,
  user: string,
  password: string,
): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => console.error(`[${user}] page error`, error));
  if (process.env.PAGE_LOG) page.on('console', (m) => console.log(`[${user}] ${m.text()}`));
  await page.goto(`${baseUrl}/`);
  await page.getByTestId('user-input').fill(user);
  await page.getByTestId('password-input').fill(password);
  await page.getByTestId('register-button').click();
  return page;
}

/**
 * Waits until the contact `address` on the page shows `presence` (data-presence of its lamp),
 * whether or not the contact list is on screen now (the call screen hides it).
 */
export async function contactLamp(page: Page, address: string, presence: string): Promise<void> {
  await page
    .locator(`[data-testid="contact"][data-address="${address}"][data-presence="${presence}"]`)
    .waitFor({ state: 'attached', timeout: 15_000 });
}

/** Clicks a contact to call them, as a person does. */
export async function callContact(page: Page, address: string): Promise<void> {
  await page
    .locator(`[data-testid="contact"][data-address="${address}"] [data-testid="contact-call"]`)
    .click();
}

/** Signs in with a password and waits until the page's phone is registered. */
export async function registeredWithPassword(
  browser: Browser,
  baseUrl: string,
  user: string,
  password: string,
): Promise<Page> {
  const page = await signInWithPassword(browser, baseUrl, user, password);
  await expectText(page, 'registration-state', 'registered');
  return page;
}

/** Stops the page's phone as the library's `Phone.stop()` does: hang up, unregister, disconnect. */
export async function stopPhone(page: Page): Promise<void> {
  await page.evaluate(() =>
    (globalThis as unknown as { ringway: { phone(): { stop(): Promise<void> } } }).ringway.phone().stop(),
  );
}

/**
 * Keeps every microphone track the context's pages are handed (getUserMedia's and their clones,
 * which calls send), for liveMicrophoneTracks(): while any is live the browser shows that the
 * page captures.
 */
export async function watchMicrophoneTracks(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const tracks: MediaStreamTrack[] = [];
    (globalThis as unknown as { microphoneTracks: MediaStreamTrack[] }).microphoneTracks = tracks;
    const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await getUserMedia(constraints);
      tracks.push(...stream.getAudioTracks());
      return stream;
    };
    const clone = MediaStreamTrack.prototype.clone;
    MediaStreamTrack.prototype.clone = function (this: MediaStreamTrack) {
      const copy = clone.call(this);
      if (tracks.includes(this)) tracks.push(copy);
      return copy;
    };
  });
}

/** How many of the microphone tracks the page was handed are live now (see watchMicrophoneTracks). */
export function liveMicrophoneTracks(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      (globalThis as unknown as { microphoneTracks: MediaStreamTrack[] }).microphoneTracks.filter(
        (track) => track.readyState === 'live',
      ).length,
  );
}
