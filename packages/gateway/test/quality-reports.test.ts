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

describe('QualityReports', () => {
  it('takes one report from each party of a call it saw, and forgets the oldest calls past 10,000', () => {
    const reports = new QualityReports(createMetrics());
    expect(reports.take('never-seen', 'alice', report)).toBe('unknown call');
    for (let i = 0; i <= 10_000; i++) reports.callSeen(`call-${i}`);
    // Seen again: no new entry, and the first call is still the oldest.
    reports.callSeen('call-1');
    expect(reports.take('call-0', 'alice', report)).toBe('unknown call');
    expect(reports.take('call-1', 'alice', report)).toBe('taken');
    expect(reports.take('call-1', 'alice', report)).toBe('already reported');
    expect(reports.take('call-1', 'bob', report)).toBe('taken');
    expect(reports.take('call-10000', 'bob', report)).toBe('taken');
  });
});
