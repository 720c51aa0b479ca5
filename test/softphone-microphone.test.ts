import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { DEFAULT_WARM_MICROPHONE_MS } from '../packages/softphone/src/warm-microphone.js';
import { eventually } from './support/eventually.js';
import { type PageStack, pageStack } from './support/page-stack.js';
import {
  callAndAnswer,
  liveMicrophoneTracks,
  openSoftphone,
  waitForAudio,
  watchMicrophoneTracks,
} from './support/softphone-app.js';

// The page opens the microphone ahead of calls so that they set up fast, and lets it go after a
// quiet period (PhoneOptions.warmMicrophoneMs, the page keeps the default): a page left open
// must not show that it captures (Safari's indicator, the system's) with no call.

let stack: PageStack;

beforeAll(async () => {
  stack = await pageStack();
}, 30_000);

afterAll(async () => {
  await stack?.close();
});

it(`lets the microphone go after ${DEFAULT_WARM_MICROPHONE_MS / 1000} s without a call; a call placed then opens it again on both sides, with audio both ways`, async () => {
  const [alice, bob] = await Promise.all(
    ['alice', 'bob'].map((user) => openSoftphone(stack.browser, stack.base, user, watchMicrophoneTracks)),
  );
  const pages = [alice, bob] as const;
  const live = () => Promise.all(pages.map((page) => liveMicrophoneTracks(page)));
  // Warm from the start, and still warm shortly before the quiet period is over.
  await eventually(
    live,
    (counts) => counts.every((count) => count === 1),
    (counts) => `live microphone tracks (alice, bob) ${counts} once registered`,
  );
  await alice.waitForTimeout(DEFAULT_WARM_MICROPHONE_MS - 3000);
  expect(await live()).toEqual([1, 1]);
  await eventually(
    live,
    (counts) => counts.every((count) => count === 0),
    (counts) => `live microphone tracks (alice, bob) ${counts} after the quiet period`,
  );

  // Alice's dial and Bob's answer each open the microphone again.
  await callAndAnswer(alice, bob, 'bob');
  await Promise.all(pages.map((page) => waitForAudio(page)));
  const inCall = await live();
  expect(inCall.every((count) => count > 0)).toBe(true);
  await Promise.all(pages.map((page) => page.context().close()));
}, 90_000);
