import { describe, expect, it } from '@jest/globals';
import { phases, slowest } from '../src/ui/waterfall-chart.js';

describe('the call set-up timeline', () => {
  it('turns the waterfall’s steps into phases on one time axis, and finds the slowest', () => {
    const all = phases([
      ['dial', 0],
      ['inviteSent', 97],
      ['offerReady', 96],
      ['ringing', 191],
      ['answered', 785],
    ]);
    expect(all).toEqual([
      { step: 'dial', from: 0, to: 0 },
      { step: 'offerReady', from: 0, to: 96 },
      { step: 'inviteSent', from: 96, to: 97 },
      { step: 'ringing', from: 97, to: 191 },
      { step: 'answered', from: 191, to: 785 },
    ]);
    expect(slowest(all)?.step).toBe('answered');
    expect(slowest([])).toBeUndefined();
  });
});
