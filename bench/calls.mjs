// npm run bench:calls — what a proxy exists for: calls. SIP-level calls between WebSocket clients
// (INVITE with a real Chromium offer, 180, 200, ACK, BYE, 200; no media), closed loop from N
// caller and N callee connections, against the gateway (embedded registrar and proxy) and
// Kamailio 5.6 as a stateful proxy (tm, rr, registrar/usrloc, Record-Route on;
// bench/kamailio-ws-proxy.cfg) with one and with two workers, in one run. CPU per call from /proc.
// A bare Node relay of the same messages on the same WebSocket library (bench/lib/bare-ws-relay.mjs:
// no SIP processing at all) runs too: the floor under any Node server doing this, which says how
// much of the gateway's CPU is its SIP work and how much is Node's and ws's per message.
// Kamailio with one worker, the gateway and the bare relay are measured in rounds, one after the
// other in each (BENCH_ROUNDS, 3): this machine's speed drifts by half within minutes (a shared
// VM), and a drift then falls on all three alike; each figure is the median of its rounds, and the
// CPU ratio the median of the rounds' own ratios. Each round also paces both, Kamailio and the
// gateway, at the same rate (PACE_FRACTION, 0.7, of that round's Kamailio calls/s): CPU per call
// at the same load, where neither is saturated — a server idle between messages pays more per
// call than one kept busy (cold caches: Kamailio 1.2–1.8× more at 400–700 calls/s than flat out),
// so a saturated Kamailio against a gateway paced at its rate would not be the same load.
// Kamailio with two workers runs once.
// The last line is JSON: the gateway against Kamailio with one worker (issue 28), and the floor.
import { cpus, loadavg } from 'node:os';
import { describeGateway, gatewayCommand, gatewayEnv } from './lib/gateway-process.mjs';
import { kamailioRegistrarConfig } from './lib/kamailio-registrar.mjs';
import { groupCpuMicroseconds, startServer } from './lib/processes.mjs';
import { callStorm } from './lib/sip-calls.mjs';
import { median } from './lib/statistics.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const pairs = Number(process.env.BENCH_PAIRS ?? 25);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`BENCH_ROUNDS must be a whole number ≥ 1, not ${rounds}`);
const paceFraction = Number(process.env.PACE_FRACTION ?? 0.7);
if (!(paceFraction > 0 && paceFraction < 1))
  throw new Error(`PACE_FRACTION must be between 0 and 1, not ${paceFraction}`);
const PORTS = { kamailio1: 18_610, kamailio2: 18_620, gateway: 18_630, bareNode: 18_640 };

/** Runs the storm against a started server (its CPU per call read over the measured window), then stops it. */
async function measure(server, url, callsPerSecond) {
  try {
    return await callStorm(url, '127.0.0.1', {
      pairs,
      seconds,
      callsPerSecond,
      cpuOfServer: () => groupCpuMicroseconds(server.pid),
    });
  } finally {
    await server.stop();
  }
}

async function kamailio(workers, port, callsPerSecond) {
  const config = kamailioRegistrarConfig({ workers, wsPort: port, config: 'kamailio-ws-proxy.cfg' });
  const server = await startServer('kamailio', ['-DD', '-E', '-f', config, '-m', '256', '-M', '16'], {
    port,
  });
  return measure(server, `ws://127.0.0.1:${port}/`, callsPerSecond);
}

async function gateway(port, callsPerSecond) {
  const server = await startServer(process.execPath, gatewayCommand, { port, env: gatewayEnv(port) });
  return measure(server, `ws://127.0.0.1:${port}/sip`, callsPerSecond);
}

async function bareNode(port) {
  const relay = new URL('./lib/bare-ws-relay.mjs', import.meta.url).pathname;
  const server = await startServer(process.execPath, [relay, String(port)], { port });
  return measure(server, `ws://127.0.0.1:${port}/`);
}

const KAMAILIO = 'Kamailio 5.6, 1 worker';
const GATEWAY = 'Ringway gateway (1 Node thread)';
const KAMAILIO_PACED = `Kamailio 5.6, 1 worker, paced at ${paceFraction}× its calls/s`;
const GATEWAY_PACED = 'Ringway gateway, paced at the same calls/s';
const BARE_NODE = 'bare Node ws relay (no SIP work)';
/** Each server's storms, one per round. */
const runs = { [KAMAILIO]: [], [GATEWAY]: [], [KAMAILIO_PACED]: [], [GATEWAY_PACED]: [], [BARE_NODE]: [] };
for (let round = 0; round < rounds; round++) {
  const anchor = await kamailio(1, PORTS.kamailio1);
  if (!(anchor.perSecond > 0))
    throw new Error(`Kamailio completed no call in round ${round + 1}: nothing to pace the gateway at`);
  runs[KAMAILIO].push(anchor);
  runs[GATEWAY].push(await gateway(PORTS.gateway));
  const pace = anchor.perSecond * paceFraction;
  runs[KAMAILIO_PACED].push(await kamailio(1, PORTS.kamailio1, pace));
  runs[GATEWAY_PACED].push(await gateway(PORTS.gateway, pace));
  runs[BARE_NODE].push(await bareNode(PORTS.bareNode));
}
const twoWorkers = await kamailio(2, PORTS.kamailio2);

/** One server's storms as one: each figure the median of its rounds, failures summed. */
const summary = (storms) => ({
  perSecond: median(storms.map((r) => r.perSecond)),
  invite: { p50: median(storms.map((r) => r.invite.p50)), p99: median(storms.map((r) => r.invite.p99)) },
  bye: { p50: median(storms.map((r) => r.bye.p50)), p99: median(storms.map((r) => r.bye.p99)) },
  failures: storms.reduce((sum, r) => sum + r.failures, 0),
  cpuUsPerCall: median(storms.map((r) => r.cpuUsPerCall)),
  cpuRounds: storms.map((r) => Math.round(r.cpuUsPerCall)),
});
const results = {
  [KAMAILIO]: summary(runs[KAMAILIO]),
  'Kamailio 5.6, 2 workers': summary([twoWorkers]),
  [GATEWAY]: summary(runs[GATEWAY]),
  [KAMAILIO_PACED]: summary(runs[KAMAILIO_PACED]),
  [GATEWAY_PACED]: summary(runs[GATEWAY_PACED]),
  [BARE_NODE]: summary(runs[BARE_NODE]),
};
/** The gateway's CPU per call over Kamailio's, in each round: both measured minutes apart at most. */
const cpuRatios = runs[GATEWAY].map((r, i) => r.cpuUsPerCall / runs[KAMAILIO][i].cpuUsPerCall);
/** The same with both paced at the same calls/s, below what either does flat out: CPU per call at the same load. */
const pacedCpuRatios = runs[GATEWAY_PACED].map(
  (r, i) => r.cpuUsPerCall / runs[KAMAILIO_PACED][i].cpuUsPerCall,
);

const f = (n) => n.toFixed(2);
console.log(
  `calls: ${pairs} caller and ${pairs} callee WebSockets, closed loop (and paced), ${seconds} s each, ${rounds} rounds (medians), ${cpus().length} cores shared with the load client; load average ${loadavg()[0].toFixed(2)} at the end`,
);
console.log(describeGateway(gatewayEnv(PORTS.gateway)));
console.table(
  Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        'calls/s': Math.round(r.perSecond),
        'INVITE→200 p50 ms': f(r.invite.p50),
        'p99 ms': f(r.invite.p99),
        'BYE→200 p50 ms': f(r.bye.p50),
        'p99 ms ': f(r.bye.p99),
        failures: r.failures,
        'server CPU µs/call': Math.round(r.cpuUsPerCall),
        'each round': r.cpuRounds.join(' '),
      },
    ]),
  ),
);
const ours = results[GATEWAY];
const anchor = results[KAMAILIO];
const cpuRatio = median(cpuRatios);
const pacedCpuRatio = median(pacedCpuRatios);
const floorRatio = median(runs[BARE_NODE].map((r, i) => r.cpuUsPerCall / runs[KAMAILIO][i].cpuUsPerCall));
const floor = results[BARE_NODE];
console.log(
  `ratio gateway / Kamailio: ${f(ours.perSecond / anchor.perSecond)}× one worker in calls/s (goal ≥ 1.0×), ${f(ours.perSecond / results['Kamailio 5.6, 2 workers'].perSecond)}× two workers; ${f(cpuRatio)}× one worker's CPU per call (goal ≤ 1.0×; rounds ${cpuRatios.map(f).join(', ')}), ${f(pacedCpuRatio)}× both paced at ${paceFraction}× Kamailio's calls/s (rounds ${pacedCpuRatios.map(f).join(', ')}); the bare Node relay ${f(floorRatio)}×, so the gateway's SIP work is ${Math.round(ours.cpuUsPerCall - floor.cpuUsPerCall)} µs per call over Node's floor`,
);
// The last line, for scripts: the gateway against Kamailio with one worker, measured in this run.
console.log(
  JSON.stringify({
    callsPerSecond: Math.round(ours.perSecond),
    kamailioCallsPerSecond: Math.round(anchor.perSecond),
    gatewayCpuUsPerCall: Math.round(ours.cpuUsPerCall),
    kamailioCpuUsPerCall: Math.round(anchor.cpuUsPerCall),
    bareNodeCpuUsPerCall: Math.round(floor.cpuUsPerCall),
    cpuRatio: Number(f(cpuRatio)),
    pacedCallsPerSecond: Math.round(results[GATEWAY_PACED].perSecond),
    pacedGatewayCpuUsPerCall: Math.round(results[GATEWAY_PACED].cpuUsPerCall),
    pacedKamailioCpuUsPerCall: Math.round(results[KAMAILIO_PACED].cpuUsPerCall),
    pacedCpuRatio: Number(f(pacedCpuRatio)),
    rounds,
  }),
);
