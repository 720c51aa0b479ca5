import { once } from 'node:events';
import perfHooks from 'node:perf_hooks';
import { symbols } from 'pino';
import { buildApp } from '../app.js';
import { loadConfig } from '../config/load-config.js';
import { withTimersThatNeverRun } from './timers.js';

/**
 * Runs the start path once while the snapshot is built — configuration, buildApp, every plugin
 * registered and ready — and closes it again. V8 keeps the bytecode of what ran in the snapshot,
 * so a start from it does not compile those functions again: about half of the time from loaded
 * to listening was compiling them (docs/start-up.md). The configuration is the default one (what
 * `npm start` with no settings runs); paths only other settings take are compiled on first use,
 * as before. Nothing listens: src/snapshot/http.cts gives Fastify a server that never does, and
 * no timer it makes is real (timers.ts).
 */
export async function warmUp(softphoneDir: string): Promise<void> {
  // prom-client's default metrics start an event-loop-delay histogram, a native handle nothing
  // closes: one in the snapshot stops Node writing it. This one measures nothing.
  const monitorEventLoopDelay = perfHooks.monitorEventLoopDelay;
  perfHooks.monitorEventLoopDelay = () => histogramThatNeverRuns as unknown as perfHooks.IntervalHistogram;
  try {
    await withTimersThatNeverRun(async () => {
      const config = loadConfig({ LOG_LEVEL: 'silent' }, { softphoneDir });
      const app = await buildApp(config);
      await app.ready();
      await app.close();
      // The log's stream (sonic-boom) asks pino's on-exit-leak-free to flush it at exit, through a
      // FinalizationRegistry: left to the garbage collector, V8 refuses to write the snapshot
      // ("dirty finalization registries"). Ended, it takes itself out.
      const stream = (app.log as unknown as Record<symbol, NodeJS.WritableStream>)[symbols.streamSym];
      stream.end();
      await once(stream, 'close');
    });
  } finally {
    perfHooks.monitorEventLoopDelay = monitorEventLoopDelay;
  }
}

const histogramThatNeverRuns = {
  enable: () => true,
  disable: () => true,
  reset: () => {},
  percentile: () => 0,
  percentiles: new Map<number, number>(),
  min: 0,
  max: 0,
  mean: 0,
  stddev: 0,
  count: 0,
  exceeds: 0,
};
