import { describe, expect, it } from '@jest/globals';
import type { QualitySample } from '../src/call-quality.js';
import { qualityPoints } from '../src/ui/quality-chart.js';

const sample = (second: number): QualitySample => ({
  at: second * 1000,
  codec: 'audio/opus',
  rttMs: 20 + second,
  jitterMs: undefined,
  lossPercent: 0,
  bitrateKbps: 40,
  packetsReceived: 50 * second,
  packetsSent: 50 * second,
  bytesReceived: 4000 * second,
  bytesSent: 4000 * second,
  inputEnergy: undefined,
  outputEnergy: undefined,
  mos: 4.4,
});

describe('the quality kept with a history entry', () => {
  it('keeps every second of a short call, thins a long one to at most 60 points, the last always kept', () => {
    expect(qualityPoints([1, 2, 3].map(sample))).toEqual(
      [1, 2, 3].map((s) => ({ mos: 4.4, jitterMs: 0, lossPercent: 0, rttMs: 20 + s })),
    );
    const long = qualityPoints(Array.from({ length: 600 }, (_, s) => sample(s)));
    expect(long.length).toBeLessThanOrEqual(61);
    expect(long.at(-1)?.rttMs).toBe(20 + 599);
  });
});
