import { describe, expect, it } from '@jest/globals';
import { callDuration, screenFor } from '../src/ui/screen.js';

describe('screenFor: one screen per situation', () => {
  it.each([
    [{ ready: false, ringing: false, liveCalls: 0 }, 'sign-in'],
    [{ ready: true, ringing: false, liveCalls: 0 }, 'idle'],
    [{ ready: true, ringing: true, liveCalls: 0 }, 'incoming'],
    [{ ready: true, ringing: false, liveCalls: 1 }, 'in-call'],
    // Call waiting stays on the in-call screen (a banner offers the second call).
    [{ ready: true, ringing: true, liveCalls: 1 }, 'in-call'],
    // A call kept through a lost connection keeps its screen.
    [{ ready: false, ringing: false, liveCalls: 1 }, 'in-call'],
  ] as const)('%j → %s', (inputs, screen) => {
    expect(screenFor(inputs)).toBe(screen);
  });
});

describe('callDuration', () => {
  it.each([
    [0, '0:00'],
    [999, '0:00'],
    [61_000, '1:01'],
    [3_599_000, '59:59'],
    [3_600_000, '1:00:00'],
    [-5, '0:00'],
  ])('%d ms → %s', (ms, text) => {
    expect(callDuration(ms)).toBe(text);
  });
});
