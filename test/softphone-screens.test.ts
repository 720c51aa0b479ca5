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
    await shoot(alice, 'idle');
    await alice.getByTestId('dial-input').fill('bob');
    await alice.getByTestId('dial-button').click();
    await bob.getByTestId('answer-button').waitFor({ state: 'visible' });
    await shoot(bob, 'incoming-dark');
    await bob.getByTestId('answer-button').click();
    await expectText(alice, 'call-state', 'active');
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
    await shoot(alice, 'in-call');
    await shoot(bob, 'in-call-dark');
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
    await alice.getByTestId('hangup-button').click();
    await expectText(bob, 'call-state', /ended/);
    await expectText(alice, 'call-state', /ended/);
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
});
