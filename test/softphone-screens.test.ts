import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { eventually } from './support/eventually.js';
import { type PageStack, pageStack } from './support/page-stack.js';
import { callAndAnswer, expectText, waitForAudio } from './support/softphone-app.js';

// Issue 16 §2 and §6: the page at a phone's width and in the system's dark mode, and a picture
// of each screen saved to .ci/results/screenshots/ (the README shows copies from docs/screenshots/).
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const shots = join(root, '.ci', 'results', 'screenshots');
let browser: Browser;
let base: string;
let stack: PageStack | undefined;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  stack = await pageStack();
  ({ browser, base } = stack);
}, 30_000);

afterAll(async () => {
  await stack?.close();
});

async function phone(user: string, options: BrowserContextOptions = {}): Promise<Page> {
  const page = await (
    await browser.newContext({ viewport: { width: 900, height: 1000 }, ...options })
  ).newPage();
  await page.goto(`${base}/?user=${user}`);
  await expectText(page, 'registration-state', 'registered');
  return page;
}

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

const screen = (page: Page) => page.evaluate(() => document.body.dataset.screen);

/** Relative luminance (0 black … 1 white) of the page's background. */
const backgroundLuminance = (page: Page) =>
  page.evaluate(() => {
    const [r, g, b] = (getComputedStyle(document.documentElement).backgroundColor.match(/\d+/g) ?? []).map(
      Number,
    );
    return (0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0)) / 255;
  });

describe('the softphone page’s screens', () => {
  it('idle, incoming and in call, in light and dark mode, with a picture of each', async () => {
    const alice = await phone('alice');
    const bob = await phone('bob', { colorScheme: 'dark' });
    expect(await backgroundLuminance(alice)).toBeGreaterThan(0.8);
    expect(await backgroundLuminance(bob)).toBeLessThan(0.2);
    expect(await screen(alice)).toBe('idle');
    await shoot(alice, 'idle');
    await alice.getByTestId('dial-input').fill('bob');
    await alice.getByTestId('dial-button').click();
    await bob.getByTestId('answer-button').waitFor({ state: 'visible' });
    // The incoming call has the screen to itself, Answer focused; the caller is on the call screen.
    expect(await screen(bob)).toBe('incoming');
    expect(await bob.getByTestId('dial-input').isVisible()).toBe(false);
    expect(await bob.evaluate(() => document.activeElement?.id)).toBe('answer-button');
    expect(await screen(alice)).toBe('in-call');
    await shoot(bob, 'incoming-dark');
    await bob.getByTestId('answer-button').click();
    await expectText(alice, 'call-state', 'active');
    expect(await screen(bob)).toBe('in-call');
    // The timer runs from the answer; the quality badge grades the latest sample.
    await expectText(alice, 'call-timer', /^0:0[1-9]$/);
    await expectText(alice, 'quality-badge', /^(good|fair|poor) · MOS \d/);
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    // Level meters on both sides show sound from the microphone and from the far end.
    for (const page of [alice, bob]) {
      for (const id of ['mic-level', 'far-level']) {
        const peak = await eventually(
          async () => Number((await page.getByTestId(id).getAttribute('data-peak')) ?? 0),
          (level) => level > 0.01,
          (level) => `${id} peaked at ${level}`,
        );
        expect(peak).toBeGreaterThan(0.01);
      }
    }
    // The set-up as a timeline: a bar per phase, the slowest marked.
    const bars = await alice
      .getByTestId('waterfall-chart')
      .locator('rect')
      .evaluateAll((rects) =>
        rects.map((r) => ({
          ms: Number((r as SVGRectElement).dataset.ms),
          slowest: r.classList.contains('slowest'),
        })),
      );
    expect(bars.length).toBeGreaterThanOrEqual(5);
    expect(bars.filter((bar) => bar.slowest)).toEqual([
      { ms: Math.max(...bars.map((bar) => bar.ms)), slowest: true },
    ]);
    // A few seconds of quality samples (one a second) for the history's chart to draw.
    await eventually(
      () =>
        alice.evaluate(
          () =>
            (globalThis as unknown as { ringway: { current(): { samples: unknown[] } } }).ringway.current()
              .samples.length,
        ),
      (count) => count >= 3,
      (count) => `only ${count} quality samples`,
    );
    // The call's quality so far, drawn live: four series.
    await eventually(
      () => alice.getByTestId('quality-chart').locator('polyline').count(),
      (count) => count === 4,
      (count) => `the live quality chart has ${count} series`,
    );
    expect(await alice.getByTestId('quality-chart').isVisible()).toBe(true);
    await shoot(alice, 'in-call');
    await shoot(bob, 'in-call-dark');
    await alice.getByTestId('hangup-button').click();
    await expectText(bob, 'call-state', /ended/);
    await expectText(alice, 'call-state', /ended/);
    expect(await screen(alice)).toBe('idle');
    // The history entry keeps the call's quality over its length as a chart: four series.
    const series = await eventually(
      () =>
        alice
          .getByTestId('history-quality-chart')
          .locator('polyline')
          .evaluateAll((lines) => lines.map((l) => (l.getAttribute('points') ?? '').split(' ').length)),
      (found) => found.length === 4,
      (found) => `the history's chart has ${found.length} series`,
    );
    for (const points of series) expect(points).toBeGreaterThanOrEqual(2);
    await shoot(alice, 'history');
    await Promise.all([alice.context().close(), bob.context().close()]);
  }, 60_000);

  it('fits a 375 px phone screen without sideways scrolling, in a call too', async () => {
    const mobile = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true };
    const carol = await phone('carol', mobile);
    const dave = await phone('dave');
    const overflow = () => carol.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shoot(carol, 'mobile-idle');
    await callAndAnswer(dave, carol, 'carol');
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shoot(carol, 'mobile-in-call');
    await dave.getByTestId('hangup-button').click();
    await Promise.all([carol.context().close(), dave.context().close()]);
  }, 60_000);

  it('call waiting: a second call is a banner on the call screen, then two lines', async () => {
    const [erin, fay, gus] = await Promise.all([phone('erin'), phone('fay'), phone('gus')]);
    await callAndAnswer(erin, fay, 'fay');
    await gus.getByTestId('dial-input').fill('erin');
    await gus.getByTestId('dial-button').click();
    await erin.getByTestId('answer-button').waitFor({ state: 'visible' });
    expect(await screen(erin)).toBe('in-call');
    expect(await erin.getByTestId('hangup-button').isVisible()).toBe(true);
    await shoot(erin, 'call-waiting');
    await erin.getByTestId('answer-button').click();
    await expectText(gus, 'call-state', 'active');
    const lines = erin.getByTestId('lines').locator('button');
    await eventually(
      () => lines.evaluateAll((buttons) => buttons.map((b) => (b as HTMLElement).dataset.state)),
      (states) => states.join() === 'held,active',
      (states) => `erin's lines are ${states}`,
    );
    expect(await lines.nth(1).getAttribute('aria-current')).toBe('true');
    await shoot(erin, 'two-lines');
    // Add call: the dialer and the contacts come back on the call screen for a third number.
    expect(await erin.getByTestId('dial-input').isVisible()).toBe(false);
    expect(await erin.getByTestId('contact-list').isVisible()).toBe(false);
    await erin.getByTestId('add-call-button').click();
    expect(await erin.getByTestId('dial-input').isVisible()).toBe(true);
    expect(await erin.getByTestId('contact-list').isVisible()).toBe(true);
    await erin.getByTestId('hangup-button').click();
    await expectText(gus, 'call-state', /ended/);
    await lines.first().click();
    await erin.getByTestId('hangup-button').click();
    await expectText(fay, 'call-state', /ended/);
    await Promise.all([erin, fay, gus].map((page) => page.context().close()));
  }, 60_000);

  it('rings on the chosen speaker and notifies of a call while the tab is hidden', async () => {
    const hal = await phone('hal', { permissions: ['notifications'] });
    const ivy = await phone('ivy');
    await hal.getByTestId('notify-button').click();
    await expectText(hal, 'notify-state', /notification will show/);
    const speaker = await hal
      .getByTestId('output-device')
      .locator('option')
      .evaluateAll((options) => (options.at(-1) as HTMLOptionElement).value);
    await hal.getByTestId('output-device').selectOption(speaker);
    // The tab goes to the background; what the page then shows the system is recorded.
    await hal.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      const shown: Array<{ title: string; body: string | undefined }> = [];
      (globalThis as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
      const Original = Notification;
      (globalThis as unknown as { Notification: unknown }).Notification = class extends Original {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push({ title, body: options?.body });
        }
      };
    });
    await ivy.getByTestId('dial-input').fill('hal');
    await ivy.getByTestId('dial-button').click();
    await hal.getByTestId('answer-button').waitFor({ state: 'visible' });
    const shown = await eventually(
      () =>
        hal.evaluate(
          () =>
            (globalThis as unknown as { shownNotifications: Array<{ title: string; body: string }> })
              .shownNotifications,
        ),
      (list) => list.length > 0,
      () => 'no notification shown',
    );
    expect(shown).toEqual([{ title: 'Incoming call', body: expect.stringContaining('ivy') }]);
    const ringSink = await eventually(
      () =>
        hal.evaluate(() =>
          (globalThis as unknown as { ringway: { ringSinkId(): string | undefined } }).ringway.ringSinkId(),
        ),
      (sink) => sink === speaker,
      (sink) => `the ring plays on "${sink}", not the chosen "${speaker}"`,
    );
    expect(ringSink).toBe(speaker);
    await hal.getByTestId('decline-button').click();
    await expectText(ivy, 'call-state', /declined/);
    await Promise.all([hal.context().close(), ivy.context().close()]);
  }, 60_000);
});
