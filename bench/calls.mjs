// npm run bench:calls — what a proxy exists for: calls. SIP-level calls between WebSocket clients
// (INVITE with a real Chromium offer, 180, 200, ACK, BYE, 200; no media), closed loop from N
// caller and N callee connections, against the gateway (embedded registrar and proxy) and
// Kamailio 5.6 as a stateful proxy (tm, rr, registrar/usrloc, Record-Route on;
// bench/kamailio-ws-proxy.cfg) with one and with two workers, in one run. CPU per call from /proc.
// A bare Node relay of the same messages on the same WebSocket library (bench/lib/bare-ws-relay.mjs:
// no SIP processing at all) runs too: the floor under any Node server doing this, which says how
// much of the gateway's CPU is its SIP work and how much is Node's and ws's per message.
// The last line is JSON: the gateway against Kamailio with one worker (issue 28), and the floor.
import { cpus, loadavg } from 'node:os';
import { describeGateway, gatewayCommand, gatewayEnv } from './lib/gateway-process.mjs';
import { kamailioRegistrarConfig } from './lib/kamailio-registrar.mjs';
import { groupCpuMicroseconds, startServer } from './lib/processes.mjs';
import { callStorm } from './lib/sip-calls.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const pairs = Number(process.env.BENCH_PAIRS ?? 25);
const PORTS = { kamailio1: 18_610, kamailio2: 18_620, gateway: 18_630, bareNode: 18_640 };

/** Runs the storm against a started server (its CPU per call read over the measured window), then stops it. */
async function measure(server, url) {
  try {
    return await callStorm(url, '127.0.0.1', {
      pairs,
      seconds,
      cpuOfServer: () => groupCpuMicroseconds(server.pid),
    });
  } finally {
    await server.stop();
  }
}

async function kamailio(workers, port) {
  const config = kamailioRegistrarConfig({ workers, wsPort: port, config: 'kamailio-ws-proxy.cfg' });
  const server = await startServer('kamailio', ['-DD', '-E', '-f', config, '-m', '256', '-M', '16'], {
    port,
  });
  return measure(server, `ws://127.0.0.1:${port}/`);
}

async function gateway(port) {
  const server = await startServer(process.execPath, gatewayCommand, { port, env: gatewayEnv(port) });
  return measure(server, `ws://127.0.0.1:${port}/sip`);
}

async function bareNode(port) {
  const relay = new URL('./lib/bare-ws-relay.mjs', import.meta.url).pathname;
  const server = await startServer(process.execPath, [relay, String(port)], { port });
  return measure(server, `ws://127.0.0.1:${port}/`);
}

const BARE_NODE = 'bare Node ws relay (no SIP work)';
const results = {
  'Kamailio 5.6, 1 worker': await kamailio(1, PORTS.kamailio1),
  'Kamailio 5.6, 2 workers': await kamailio(2, PORTS.kamailio2),
  'Ringway gateway (1 Node thread)': await gateway(PORTS.gateway),
  [BARE_NODE]: await bareNode(PORTS.bareNode),
};

const f = (n) => n.toFixed(2);
console.log(
  `calls: ${pairs} caller and ${pairs} callee WebSockets, closed loop, ${seconds} s each, ${cpus().length} cores shared with the load client; load average ${loadavg()[0].toFixed(2)} at the end`,
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
      },
    ]),
  ),
);
const ours = results['Ringway gateway (1 Node thread)'];
const anchor = results['Kamailio 5.6, 1 worker'];
const floor = results[BARE_NODE];
console.log(
  `ratio gateway / Kamailio: ${f(ours.perSecond / anchor.perSecond)}× one worker in calls/s (goal ≥ 1.0×), ${f(ours.perSecond / results['Kamailio 5.6, 2 workers'].perSecond)}× two workers; ${f(ours.cpuUsPerCall / anchor.cpuUsPerCall)}× one worker's CPU per call (goal ≤ 1.0×); the bare Node relay ${f(floor.cpuUsPerCall / anchor.cpuUsPerCall)}×, so the gateway's SIP work is ${Math.round(ours.cpuUsPerCall - floor.cpuUsPerCall)} µs per call over Node's floor`,
);
// The last line, for scripts: the gateway against Kamailio with one worker, measured in this run.
console.log(
  JSON.stringify({
    callsPerSecond: Math.round(ours.perSecond),
    kamailioCallsPerSecond: Math.round(anchor.perSecond),
    gatewayCpuUsPerCall: Math.round(ours.cpuUsPerCall),
    kamailioCpuUsPerCall: Math.round(anchor.cpuUsPerCall),
    bareNodeCpuUsPerCall: Math.round(floor.cpuUsPerCall),
  }),
);
