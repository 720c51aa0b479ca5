import { describe, expect, it } from '@jest/globals';
import { QualityReports } from '../src/calls/quality-reports.js';
import { createMetrics } from '../src/metrics.js';

const report = {
  direction: 'outgoing' as const,
  durationMs: 1000,
  lossPercent: 0,
  reconnects: 0,
  reconnectMs: [],
  warnings: [],
};

/** lru-cache reads its clock at most once a millisecond, on a timer: let that timer run. */
const clockRead = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('QualityReports', () => {
  it('takes one report from each party of a call it saw', () => {
    const reports = new QualityReports(createMetrics());
    reports.callSeen('call');
    expect(reports.take('never-seen', 'alice', report)).toBe('unknown call');
    expect(reports.take('call', 'alice', report)).toBe('taken');
    expect(reports.take('call', 'alice', report)).toBe('already reported');
    expect(reports.take('call', 'bob', report)).toBe('taken');
    expect(reports.take('call', 'carol', report)).toBe('already reported');
  });

  it('forgets the oldest call past 10,000, however often it is seen again', () => {
    const reports = new QualityReports(createMetrics());
    for (let i = 0; i < 10_000; i++) reports.callSeen(`call-${i}`);
    reports.callSeen('call-0');
    reports.callSeen('call-10000');
    expect(reports.take('call-0', 'alice', report)).toBe('unknown call');
    expect(reports.take('call-1', 'alice', report)).toBe('taken');
    expect(reports.take('call-10000', 'alice', report)).toBe('taken');
  });

  it('forgets a call 2 h after it began', async () => {
    let now = 1_000_000;
    const reports = new QualityReports(createMetrics(), undefined, () => now);
    reports.callSeen('early');
    now += 3600_000;
    await clockRead();
    reports.callSeen('later');
    now += 3600_000 + 1;
    await clockRead();
    expect(reports.take('early', 'alice', report)).toBe('unknown call');
    expect(reports.take('later', 'alice', report)).toBe('taken');
  });
});
