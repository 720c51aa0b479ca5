// The gateway as the benchmarks and the e2e tests start it: what `npm start` runs (dist/start.sh),
// with the same flags.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'gateway', 'dist');

// npm start's V8 flags (start.sh reads them from dist/node-flags; the snapshot is built under
// them, bundle.mjs). Why each (docs/benchmarks.md):
// - the young generation capped at 8 MB per semi-space: against 2 MB, 8 % less CPU per call in
//   bench:calls (443–452 against 470–525 µs), +1.8 MB settled after the fuzz (14.3 against 12.5),
//   and the same RSS with 10,000 registered WebSockets: V8 gives the young generation back when idle;
// - scavenges on the main thread alone (--no-parallel-scavenge): in a call storm V8's helper threads
//   took 57–93 µs of CPU per call, 27–40 without parallel scavenges, and the main thread did not
//   take that work over; RSS settled after the fuzz +15.4 MB, +16.5–17.1 without the flag.
//   (--single-threaded-gc, every collector thread off, saved no more CPU and left +23.0 MB, twice:
//   why, not traced.)
export const nodeFlags = readFileSync(join(dist, 'node-flags'), 'utf8').split(/\s+/).filter(Boolean);

/** The bundle alone: what start.sh falls back to when this node cannot load the snapshot. */
export const bundleCommand = [...nodeFlags, join(dist, 'gateway.mjs')];

/**
 * The gateway from the V8 start-up snapshot `npm run build` made (docs/start-up.md), as start.sh
 * runs it: a test of the bundle alone would not see what only the snapshot does wrong (every
 * timer past the first second once never fired from it, while the suites ran the bundle).
 */
export const gatewayCommand = [
  ...nodeFlags,
  '--snapshot-blob',
  join(dist, 'gateway.blob'),
  join(dist, 'gateway.mjs'),
];

/**
 * The environment of a benchmarked gateway on `port`, plus `extra`: the defaults users run with
 * (log level included) but for the limits below.
 */
export function gatewayEnv(port, extra = {}) {
  return {
    PORT: String(port),
    // The load client is one address sending as fast as it is answered: lift the per-connection
    // and per-address limits that protect a real deployment, as Kamailio's config has none.
    RATE_MESSAGES_PER_SECOND: '1000000',
    RATE_MESSAGE_BURST: '1000000',
    MAX_CONNECTIONS_PER_IP: '20000',
    ...extra,
  };
}

/** One line saying how the benchmarked gateway was started: its flags and every setting not left at its default. */
export function describeGateway(env) {
  const settings = Object.entries(env)
    .filter(([name]) => name !== 'PORT')
    .map(([name, value]) => `${name}=${value}`);
  return `gateway: node ${nodeFlags.join(' ')} --snapshot-blob dist/gateway.blob dist/gateway.mjs; ${settings.join(' ')} (everything else default, LOG_LEVEL ${env.LOG_LEVEL ?? 'info'})`;
}
