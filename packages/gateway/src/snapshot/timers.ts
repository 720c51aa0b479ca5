// Node's timers while the start-up snapshot is built. Node keeps its timer queue in the JavaScript
// heap (lib/internal/timers.js: one list per duration, and when the earliest list is due), so a
// snapshot keeps whatever is in it; the native timer that wakes the queue is new in each process.
// A list left over from building — and Node keeps the list of an unref()'d timer after
// clearTimeout(), expecting the duration back — leaves a process started from the snapshot sure
// that a wake-up is set when none is: no timer made after the left-over list's moment ever fired
// (found as a gateway that never reconnected to Redis, and SIP timers that never ran: docs/start-up.md).
import v8 from 'node:v8';

/** A timer of the warm-up: it never runs, and is in no queue. */
class TimerThatNeverRuns {
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  hasRef() {
    return false;
  }
  refresh() {
    return this;
  }
  close() {
    return this;
  }
  [Symbol.toPrimitive]() {
    return 0;
  }
}

/**
 * Runs `run` (the warm-up, which makes the gateway's pingers, sweeps and idle timers and closes
 * them again) with setTimeout and setInterval giving timers that never run, then lets one real
 * timer run with nothing else queued, which leaves Node's queue with nothing due.
 */
export async function withTimersThatNeverRun(run: () => Promise<void>): Promise<void> {
  const real = {
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    clearTimeout: globalThis.clearTimeout,
    clearInterval: globalThis.clearInterval,
  };
  const neverRuns = () => new TimerThatNeverRuns();
  const clear = (clearReal: (timer: never) => void) => (timer: unknown) => {
    if (!(timer instanceof TimerThatNeverRuns)) clearReal(timer as never);
  };
  Object.assign(globalThis, {
    setTimeout: neverRuns,
    setInterval: neverRuns,
    clearTimeout: clear(real.clearTimeout),
    clearInterval: clear(real.clearInterval),
  });
  try {
    await run();
  } finally {
    Object.assign(globalThis, real);
  }
  await new Promise((resolve) => setTimeout(resolve, 1));
}

// The check that nothing was left: Node's timer lists when the snapshot is written (bundle.mjs
// builds it with --expose-internals for this). A timer made while the modules load, or by Node
// itself during the warm-up, fails the build here, naming what it would have run.
declare const require: (id: string) => unknown;
if (v8.startupSnapshot.isBuildingSnapshot()) {
  v8.startupSnapshot.addSerializeCallback(() => {
    // biome-ignore lint/correctness/noUndeclaredDependencies: Node's own, with --expose-internals
    const { timerListMap } = require('internal/timers') as {
      timerListMap: Record<string, { _idleNext: unknown } & { _onTimeout?: unknown }>;
    };
    const left = Object.entries(timerListMap).map(([ms, list]) => {
      const callbacks: string[] = [];
      for (let timer = list._idleNext as typeof list; timer !== list; timer = timer._idleNext as typeof list)
        callbacks.push(String(timer._onTimeout).slice(0, 120));
      return `${ms} ms: ${callbacks.length ? callbacks.join(' | ') : 'an empty list (an unref()ed timer cleared)'}`;
    });
    if (left.length === 0) return;
    // Not a throw: Node would print it and write the snapshot all the same.
    console.error(`timers left in the start-up snapshot would stop every timer firing: ${left.join('; ')}`);
    process.exit(1);
  });
}
