// What a benchmark started and has not stopped yet, and the process-level handlers that stop it
// when the benchmark does not get to: an interrupted bench:relay once left eleven Kamailio
// processes and three gateways holding their ports and a core for an hour, skewing every later
// figure (issue 28). Servers run in process groups of their own (processes.mjs), so Ctrl-C at the
// terminal never reaches them: only their benchmark can stop them.
//
// - SIGINT, SIGTERM, SIGHUP: stop everything, then exit 128 + the signal's number (130, 143, 129);
//   the same signal again exits at once.
// - An uncaught exception or unhandled rejection (a top-level await that rejects is one): print
//   it, stop everything, exit 1. Once stopping, further errors are the benchmark's code failing
//   as its browser and servers go away, and are not printed.
// - 'exit' (process.exit(), the end of the run, any of the above): nothing asynchronous runs
//   there any more, so every process group still registered gets SIGKILL by its id.
// The handlers are installed once, by the first registration: a benchmark that starts nothing
// keeps Node's defaults.

/** How long stopping everything may take before the process exits anyway (SIGKILL then). */
const STOP_ALL_MS = 10_000;

const SIGNAL_EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/** @type {Set<{ what: string, stop: () => Promise<unknown>, pgid?: number }>} */
const running = new Set();
let installed = false;
let exiting = false;

/**
 * Registers something started (`what` names it in messages): `stop()` ends it gracefully, and
 * `pgid`, when it has a process group of its own, is SIGKILLed if the process exits with it still
 * registered. Returns the function that forgets it, for its own stop() to call.
 */
export function stopOnExit(what, stop, { pgid } = {}) {
  install();
  const entry = { what, stop, pgid };
  running.add(entry);
  return () => running.delete(entry);
}

/**
 * Stops everything registered, the last started first (browsers before their servers), until
 * nothing is: what the benchmark starts meanwhile is stopped too. Each stays registered until its
 * stop() has settled, so that 'exit' still kills what did not stop.
 */
export async function stopAll() {
  for (let entry = [...running].at(-1); entry; entry = [...running].at(-1)) {
    await entry
      .stop()
      .catch((error) => console.error(`could not stop ${entry.what}: ${error?.message ?? error}`));
    running.delete(entry);
  }
}

function install() {
  if (installed) return;
  installed = true;
  for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES)) {
    process.on(signal, () => exitAfterStopping(code, `${signal}: stopping what the benchmark started`));
  }
  const fail = (error) => {
    // While stopping, the benchmark's own code fails as its browser and servers go away: expected.
    if (exiting) return;
    console.error(error);
    exitAfterStopping(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  process.on('exit', killRemainingGroups);
}

function exitAfterStopping(code, message) {
  if (exiting) {
    // A second signal: no more waiting ('exit' kills what is left).
    process.exit(code);
  }
  exiting = true;
  if (message && running.size > 0) console.error(message);
  const deadline = setTimeout(() => process.exit(code), STOP_ALL_MS);
  void stopAll().then(() => {
    clearTimeout(deadline);
    process.exit(code);
  });
}

function killRemainingGroups() {
  for (const { pgid } of running) {
    if (pgid === undefined) continue;
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}
