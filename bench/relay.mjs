// npm run bench:relay — the gateway as an edge proxy in front of Kamailio (upstream mode), against
// Kamailio's own WebSocket listener, in one run with one Kamailio: the load client of
// bench:register (50 WebSockets, closed loop, 10 s) sends REGISTERs straight to Kamailio, then
// through gateway → Kamailio over UDP, then over TCP, then over UDP with the gateway's workers
// (WORKERS, 2 by default: BENCH_GATEWAY_WORKERS). CPU per REGISTER of each server from /proc.
import { describeGateway, gatewayCommand, gatewayEnv } from './lib/gateway-process.mjs';
import { kamailioRegistrarConfig } from './lib/kamailio-registrar.mjs';
import { groupCpuMicroseconds, startServer } from './lib/processes.mjs';
import { registerStorm } from './lib/sip-load.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const workers = Number(process.env.BENCH_KAMAILIO_WORKERS ?? 2);
const relayWorkers = Number(process.env.BENCH_GATEWAY_WORKERS ?? 2);
const KAMAILIO_WS_PORT = 18_110;
const KAMAILIO_UDP_PORT = 18_111;
const GATEWAY_PORT = 18_210;

const kamailio = await startServer(
  'kamailio',
  [
    '-DD',
    '-E',
    '-f',
    kamailioRegistrarConfig({ workers, wsPort: KAMAILIO_WS_PORT, udpPort: KAMAILIO_UDP_PORT }),
    '-m',
    '256',
    '-M',
    '16',
  ],
  { port: KAMAILIO_WS_PORT, udpPorts: [KAMAILIO_UDP_PORT] },
);
let direct;
const relayed = {};
try {
  direct = await registerStorm(`ws://127.0.0.1:${KAMAILIO_WS_PORT}/`, '127.0.0.1', {
    connections,
    seconds,
    users: 'direct',
    sampleCpu: async () => ({ kamailio: await groupCpuMicroseconds(kamailio.pid) }),
  });
  // Kamailio's TCP listener takes plain SIP as well as WebSocket upgrades.
  for (const [name, upstream, gatewayWorkers] of [
    ['UDP, 1 worker', `127.0.0.1:${KAMAILIO_UDP_PORT}`, 1],
    ['TCP, 1 worker', `tcp:127.0.0.1:${KAMAILIO_WS_PORT}`, 1],
    [`UDP, ${relayWorkers} workers`, `127.0.0.1:${KAMAILIO_UDP_PORT}`, relayWorkers],
    [`TCP, ${relayWorkers} workers`, `tcp:127.0.0.1:${KAMAILIO_WS_PORT}`, relayWorkers],
  ]) {
    const gateway = await startServer(process.execPath, gatewayCommand, {
      port: GATEWAY_PORT,
      env: gatewayEnv(GATEWAY_PORT, { UPSTREAM: upstream, WORKERS: String(gatewayWorkers) }),
    });
    try {
      // The relay answers 503 until its first keep-alive is answered (in every worker).
      await new Promise((resolve) => setTimeout(resolve, gatewayWorkers > 1 ? 1500 : 500));
      relayed[name] = await registerStorm(`ws://127.0.0.1:${GATEWAY_PORT}/sip`, '127.0.0.1', {
        connections,
        seconds,
        users: `relayed${gatewayWorkers}${upstream.slice(0, 3)}`,
        sampleCpu: async () => ({
          gateway: await groupCpuMicroseconds(gateway.pid),
          kamailio: await groupCpuMicroseconds(kamailio.pid),
        }),
      });
    } finally {
      await gateway.stop();
    }
  }
} finally {
  await kamailio.stop();
}

const f = (n, digits = 2) => n.toFixed(digits);
console.log(
  `REGISTER storm: ${connections} WebSocket connections, closed loop, ${seconds} s each; Kamailio 5.6 with ${workers} workers`,
);
console.log(
  describeGateway(gatewayEnv(GATEWAY_PORT, { UPSTREAM: '<Kamailio>', WORKERS: `1 or ${relayWorkers}` })),
);
const row = (r) => ({
  'REGISTER/s': Math.round(r.perSecond),
  'p50 ms': f(r.p50),
  'p99 ms': f(r.p99),
  failures: r.failures,
  'gateway CPU µs/REGISTER':
    r.cpuUsPerRegister.gateway === undefined ? '–' : Math.round(r.cpuUsPerRegister.gateway),
  'Kamailio CPU µs/REGISTER': Math.round(r.cpuUsPerRegister.kamailio),
});
console.table({
  'Kamailio WebSocket, direct': row(direct),
  ...Object.fromEntries(
    Object.entries(relayed).map(([transport, r]) => [
      `gateway (upstream mode) → Kamailio ${transport}`,
      row(r),
    ]),
  ),
});
for (const [transport, r] of Object.entries(relayed)) {
  console.log(
    `${transport}: ratio relayed/direct REGISTER/s ${f(r.perSecond / direct.perSecond)}× (goal with 2 workers on 2 cores ≥ 0.5×); added p50 ${f(r.p50 - direct.p50)} ms`,
  );
}
