import { describe, expect, it } from '@jest/globals';
import { backoffDelay } from '../src/backoff.js';
import { estimateMos } from '../src/call-quality.js';
import { expectedCandidateTypes } from '../src/fast-ice.js';

describe('backoffDelay', () => {
  it('doubles up to the cap, with jitter between half and all of it', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, {}, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, {}, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, { maxMs: 30_000 }, () => 1)).toBe(30_000);
  });
});

describe('estimateMos', () => {
  it('rates a clean loopback G.711 call near the top and degrades with loss and delay', () => {
    const clean = estimateMos({ rttMs: 1, jitterMs: 1, lossPercent: 0, codec: 'audio/PCMU' });
    expect(clean).toBeGreaterThan(4.3);
    const lossy = estimateMos({ rttMs: 1, jitterMs: 1, lossPercent: 5, codec: 'audio/PCMU' });
    const slow = estimateMos({ rttMs: 600, jitterMs: 30, lossPercent: 0, codec: 'audio/PCMU' });
    expect(lossy).toBeLessThan(clean);
    expect(slow).toBeLessThan(clean);
    expect(estimateMos({ rttMs: 2000, jitterMs: 200, lossPercent: 40 })).toBe(1);
  });
});

describe('expectedCandidateTypes', () => {
  it('waits for srflx from STUN and relay from TURN, host always', () => {
    expect([...expectedCandidateTypes([])]).toEqual(['host']);
    expect([
      ...expectedCandidateTypes([{ urls: ['stun:127.0.0.1:3478', 'turn:127.0.0.1:3478?transport=udp'] }]),
    ]).toEqual(['host', 'srflx', 'relay']);
  });
});
