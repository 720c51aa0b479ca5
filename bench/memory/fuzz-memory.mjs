// One long fuzz run against an inspected gateway, with its memory: RSS sampled during the run,
// after forced full garbage collections once the transactions the run left have ended, and once
// settled (idle until RSS stops falling, at least `settleMs`). Used by bench/fuzz.mjs and
// bench/fuzz-allocators.mjs.
import { randomBytes } from 'node:crypto';
import { freeTcpPort } from '../../packages/gateway/test/support/loopback-ports.mjs';
import { runFuzz } from '../../packages/gateway/test/support/sip-fuzz.mjs';
import { startInspectedGateway } from './inspected-gateway.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (n) => Math.round(n * 10) / 10;

export async function fuzzMemory({
  count,
  seed,
  connections,
  env = {},
  nodeFlags = [],
  entry,
  detail = false,
  sampleEveryMs = 2000,
  settleMs = 30_000,
}) {
  const port = await freeTcpPort();
  const gateway = await startInspectedGateway({
    port,
    adminToken: randomBytes(16).toString('hex'),
    env: { SIP_DOMAIN: 'ringway.test', ...env },
    nodeFlags,
    entry,
  });
  try {
    // What a run leaves in flight (unanswered INVITEs, lingering transactions) ends on its timers.
    const drained = async () => {
      while ((await gateway.scrape()).transactions > 0) await sleep(1000);
    };
    const measured = async () => {
      await gateway.collectGarbage();
      return gateway.memory();
    };
    const before = await measured();
    // FUZZ_HEAP_SNAPSHOTS=<folder>: the heap before and settled, to compare what stayed.
    const snapshots = process.env.FUZZ_HEAP_SNAPSHOTS;
    if (snapshots) await gateway.heapSnapshot(`${snapshots}/before.heapsnapshot`);
    const metricsBefore = await gateway.scrape();
    const t0 = performance.now();
    const series = [];
    // With `detail`, each sample has process.memoryUsage() and smaps too (what the peak is made of).
    const sample = async () => {
      const s = round((performance.now() - t0) / 1000);
      if (!detail) return series.push({ s, rssMb: round(await gateway.rssMb()) });
      const m = await gateway.memory();
      series.push({ s, ...Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v)])) });
    };
    await sample();
    const sampler = setInterval(sample, sampleEveryMs);
    const result = await runFuzz({
      url: `ws://127.0.0.1:${port}/sip`,
      domain: 'ringway.test',
      count,
      seed,
      connections,
    });
    const seconds = (performance.now() - t0) / 1000;
    const peakRssMb = Math.max(...series.map((p) => p.rssMb));
    const rightAfter = await gateway.memory();
    await drained();
    clearInterval(sampler);
    await sample();
    const afterGc = await measured();
    // Settled: idle until RSS has stopped falling (by under 1 MB in 10 s), at least settleMs.
    const settleStarted = Date.now();
    const idle = [await gateway.rssMb()];
    while (Date.now() - settleStarted < 120_000) {
      await sleep(5000);
      idle.push(await gateway.rssMb());
      const stillFalling = idle.length > 2 && idle.at(-3) - idle.at(-1) >= 1;
      if (Date.now() - settleStarted >= settleMs && !stillFalling) break;
    }
    const settled = await measured();
    if (snapshots) await gateway.heapSnapshot(`${snapshots}/settled.heapsnapshot`);
    const metricsAfter = await gateway.scrape();
    return {
      result,
      seconds,
      before,
      rightAfter,
      peakRssMb,
      afterGc,
      settled,
      settleSeconds: (Date.now() - settleStarted) / 1000,
      series,
      metricsBefore,
      metricsAfter,
    };
  } finally {
    await gateway.stop();
  }
}
