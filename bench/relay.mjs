// npm run bench:relay — the gateway as an edge proxy in front of Kamailio (upstream mode), against
// Kamailio's own WebSocket listener, in one run with one Kamailio: the load client of
// bench:register (50 WebSockets, closed loop, 10 s) sends REGISTERs straight to Kamailio, then
// through gateway → Kamailio (UDP). Goal: ≥ 0.8× Kamailio-direct REGISTER/s and ≤ 1 ms added p50.
import { gatewayCommand, gatewayEnv } from './lib/gateway-process.mjs';
import { kamailioRegistrarConfig } from './lib/kamailio-registrar.mjs';
import { startServer } from './lib/processes.mjs';
import { registerStorm } from './lib/sip-load.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const workers = Number(process.env.BENCH_KAMAILIO_WORKERS ?? 2);
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
  { port: KAMAILIO_WS_PORT },
);
let direct;
let relayed;
try {
  direct = await registerStorm(`ws://127.0.0.1:${KAMAILIO_WS_PORT}/`, '127.0.0.1', {
    connections,
    seconds,
    users: 'direct',
  });
  const gateway = await startServer(process.execPath, gatewayCommand, {
    port: GATEWAY_PORT,
    env: gatewayEnv(GATEWAY_PORT, { UPSTREAM: `127.0.0.1:${KAMAILIO_UDP_PORT}` }),
  });
  try {
    // The relay answers 503 until its first keep-alive is answered.
    await new Promise((resolve) => setTimeout(resolve, 500));
    relayed = await registerStorm(`ws://127.0.0.1:${GATEWAY_PORT}/sip`, '127.0.0.1', {
      connections,
      seconds,
    });
  } finally {
    await gateway.stop();
  }
} finally {
  await kamailio.stop();
}

const f = (n, digits = 2) => n.toFixed(digits);
console.log(
  `REGISTER storm: ${connections} WebSocket connections, closed loop, ${seconds} s each; Kamailio 5.6 with ${workers} workers`,
);
console.table({
  'Kamailio WebSocket, direct': {
    'REGISTER/s': Math.round(direct.perSecond),
    'p50 ms': f(direct.p50),
    'p99 ms': f(direct.p99),
    failures: direct.failures,
  },
  'gateway (upstream mode) → Kamailio UDP': {
    'REGISTER/s': Math.round(relayed.perSecond),
    'p50 ms': f(relayed.p50),
    'p99 ms': f(relayed.p99),
    failures: relayed.failures,
  },
});
console.log(
  `ratio relayed/direct REGISTER/s: ${f(relayed.perSecond / direct.perSecond)}× (goal ≥ 0.8×); added p50: ${f(relayed.p50 - direct.p50)} ms (goal ≤ 1 ms)`,
);
