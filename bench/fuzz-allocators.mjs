// npm run fuzz:allocators -- [--count N] [--rounds R] [--only name,name]
// Issue 28: the same seeded fuzz run (bench/fuzz.mjs's) against the gateway under each memory
// option, rounds alternating, side by side: RSS before, at the peak, after forced full GCs once
// the run's transactions ended, and settled (idle until RSS stops falling), and what glibc's
// main arena (`[heap]` in /proc/PID/smaps) holds then.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { JEMALLOC } from './memory/allocators.mjs';
import { fuzzMemory } from './memory/fuzz-memory.mjs';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: process.env.FUZZ_MESSAGES ?? '1000000' },
    seed: { type: 'string', default: '20261202' },
    connections: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});

/** Each option: its name, the environment it adds and any Node flags after npm start's own. */
const VARIANTS = [
  { name: 'glibc (default)', env: {} },
  { name: 'MALLOC_ARENA_MAX=2', env: { MALLOC_ARENA_MAX: '2' } },
  {
    name: 'ARENA_MAX=2 TRIM_THRESHOLD_=128K',
    env: { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' },
  },
  { name: 'MALLOC_MMAP_THRESHOLD_=64K', env: { MALLOC_MMAP_THRESHOLD_: '65536' } },
  { name: 'MALLOC_MMAP_THRESHOLD_=16K', env: { MALLOC_MMAP_THRESHOLD_: '16384' } },
  { name: 'jemalloc (Debian libjemalloc2)', env: { LD_PRELOAD: JEMALLOC }, needs: true },
  {
    name: 'jemalloc, background_thread',
    env: { LD_PRELOAD: JEMALLOC, MALLOC_CONF: 'background_thread:true' },
    needs: true,
  },
  { name: 'glibc, semi-space 16 MB', env: {}, nodeFlags: ['--max-semi-space-size=16'] },
];
const only = values.only?.split(',');
const variants = VARIANTS.filter(
  (v, i) => (!only || only.includes(String(i)) || only.includes(v.name)) && (!v.needs || JEMALLOC),
);

const load = () => os.loadavg()[0].toFixed(2);
const rows = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const variant of variants) {
    const loadBefore = load();
    const run = await fuzzMemory({
      count: Number(values.count),
      seed: Number(values.seed),
      connections: Number(values.connections),
      env: variant.env,
      nodeFlags: variant.nodeFlags,
    });
    const row = {
      round,
      variant: variant.name,
      messages: run.result.sent,
      seconds: run.seconds,
      load: `${loadBefore}→${load()}`,
      internalErrors: run.metricsAfter.internalErrors,
      rssBeforeMb: run.before.rssMb,
      peakRssMb: run.peakRssMb,
      rssAfterGcMb: run.afterGc.rssMb,
      rssSettledMb: run.settled.rssMb,
      growthMb: run.settled.rssMb - run.before.rssMb,
      mallocHeapMb: `${run.before.mallocHeapMb.toFixed(1)}→${run.settled.mallocHeapMb.toFixed(1)}`,
      anonMb: `${run.before.anonMb.toFixed(1)}→${run.settled.anonMb.toFixed(1)}`,
      v8HeapMb: `${run.before.heapMb.toFixed(1)}→${run.settled.heapMb.toFixed(1)}`,
    };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
}
const mb = (n) => (typeof n === 'number' ? n.toFixed(1) : n);
console.log(
  '| round | option | messages/s | load | RSS before | peak | after GC | settled | growth | [heap] | other anon | V8 heap used |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.round} | ${r.variant} | ${Math.round(r.messages / r.seconds)} | ${r.load} | ${mb(r.rssBeforeMb)} | ${mb(r.peakRssMb)} | ${mb(r.rssAfterGcMb)} | ${mb(r.rssSettledMb)} | **${r.growthMb >= 0 ? '+' : ''}${mb(r.growthMb)}** | ${r.mallocHeapMb} | ${r.anonMb} | ${r.v8HeapMb} |`,
  );
process.exit(rows.every((r) => r.internalErrors === 0) ? 0 : 1);
