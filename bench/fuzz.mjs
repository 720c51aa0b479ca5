// npm run fuzz -- [--count N] [--seed S] [--connections C] [--malloc glibc|jemalloc]
// The long fuzz run of issues 11 and 28: N fuzzed SIP messages (the CI suite's mutator, seeded;
// N from --count, else FUZZ_MESSAGES, else 1,000,000) against the built gateway in a process of
// its own, started as the benchmarks start it (the bundle `npm start` runs, with its flags, not
// from its start-up snapshot) plus --inspect on loopback, through which full garbage collections
// are forced (no code for it in the gateway). Under jemalloc when it is installed, as the Docker
// image runs (docs/robustness.md), unless --malloc says otherwise. Prints messages/s, answers by
// status, memory before, during and after (after forced GCs once the transactions the run left
// have timed out; then settled, once idle RSS stops falling), and internal errors (which must be
// 0); ends with one JSON line of the figures.
import { parseArgs } from 'node:util';
import { allocatorEnv, JEMALLOC } from './memory/allocators.mjs';
import { fuzzMemory } from './memory/fuzz-memory.mjs';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: process.env.FUZZ_MESSAGES ?? '1000000' },
    seed: { type: 'string', default: '20261202' },
    connections: { type: 'string', default: '8' },
    malloc: { type: 'string', default: JEMALLOC ? 'jemalloc' : 'glibc' },
  },
});
const run = await fuzzMemory({
  count: Number(values.count),
  seed: Number(values.seed),
  connections: Number(values.connections),
  env: allocatorEnv(values.malloc),
});
const { result, before, afterGc, settled } = run;

const mb = (n) => `${n.toFixed(1)} MB`;
const signed = (n) => `${n >= 0 ? '+' : ''}${mb(n)}`;
const where = (m) =>
  `RSS ${mb(m.rssMb)} (malloc [heap] ${mb(m.mallocHeapMb)}, other anonymous ${mb(m.anonMb)}, files ${mb(m.fileMb)}), V8 heap used ${mb(m.heapMb)} of ${mb(m.heapTotalMb)}, ArrayBuffers ${mb(m.arrayBuffersMb)}`;
console.log(
  `fuzzed ${result.sent} messages in ${run.seconds.toFixed(1)} s: ${Math.round(result.sent / run.seconds)} messages/s (allocator: ${values.malloc})`,
);
console.log('answers by status:', JSON.stringify(result.answers));
console.log(
  `requests forwarded to the fuzzing clients: ${result.forwarded}; reconnections: ${result.reconnects}`,
);
console.log('mutations applied:', JSON.stringify(result.mutations));
console.log(`before, after GC: ${where(before)}`);
console.log(`peak RSS during the run ${mb(run.peakRssMb)}; right after it: ${where(run.rightAfter)}`);
console.log(`transactions ended, after GC: ${where(afterGc)} (${signed(afterGc.rssMb - before.rssMb)})`);
console.log(
  `settled (${run.settleSeconds.toFixed(0)} s idle), after GC: ${where(settled)} (${signed(settled.rssMb - before.rssMb)})`,
);
console.log(
  `metric series before ${run.metricsBefore.series}, after ${run.metricsAfter.series}; internal errors ${run.metricsAfter.internalErrors}`,
);
const round = (n) => Math.round(n * 10) / 10;
console.log(
  JSON.stringify({
    messages: result.sent,
    internalErrors: run.metricsAfter.internalErrors,
    rssBeforeMb: round(before.rssMb),
    rssAfterGcMb: round(afterGc.rssMb),
    rssSettledMb: round(settled.rssMb),
    series: run.series,
  }),
);
process.exit(run.metricsAfter.internalErrors === 0 ? 0 : 1);
