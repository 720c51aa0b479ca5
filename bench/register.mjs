// npm run bench:register — the gateway's registrar against Kamailio 5.6 on the same machine, in
// the same run: REGISTER/s, p50 and p99 under one bounded load client (50 WebSockets, closed
// loop, 10 s), start-up from spawn to listening, and the gateway's RSS with 10,000 registered
// WebSocket clients. Everything listens on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { describeGateway, gatewayCommand, gatewayEnv } from './lib/gateway-process.mjs';
import { kamailioRegistrarConfig } from './lib/kamailio-registrar.mjs';
import { startServer } from './lib/processes.mjs';
import { registerMany, registerStorm } from './lib/sip-load.mjs';
import { allocatorEnv, JEMALLOC } from './memory/allocators.mjs';
import { startInspectedGateway } from './memory/inspected-gateway.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const idleClients = Number(process.env.BENCH_IDLE_CLIENTS ?? 10_000);
const KAMAILIO_PORT = 18_100;
const GATEWAY_PORT = 18_200;
const BARE_NODE_PORT = 18_300;

async function measureKamailio(workers) {
  const server = await startServer(
    'kamailio',
    ['-DD', '-E', '-f', kamailioRegistrarConfig({ workers, wsPort: KAMAILIO_PORT }), '-m', '256', '-M', '16'],
    {
      port: KAMAILIO_PORT,
    },
  );
  try {
    const load = await registerStorm(`ws://127.0.0.1:${KAMAILIO_PORT}/`, '127.0.0.1', {
      connections,
      seconds,
    });
    return { startMs: server.startMs, ...load };
  } finally {
    await server.stop();
  }
}

async function measureGateway() {
  const server = await startServer(process.execPath, gatewayCommand, {
    port: GATEWAY_PORT,
    env: gatewayEnv(GATEWAY_PORT),
  });
  try {
    const load = await registerStorm(`ws://127.0.0.1:${GATEWAY_PORT}/sip`, '127.0.0.1', {
      connections,
      seconds,
    });
    return { startMs: server.startMs, ...load };
  } finally {
    await server.stop();
  }
}

/**
 * RSS idle and with `idleClients` registered WebSockets, each after forced full GCs (through the
 * inspector, as the fuzz measures): read a second after the registrations without one, it was
 * 16–17 KB a connection or 12.8 depending on whether a collection had come by then.
 */
async function measureGatewayMemory() {
  const gateway = await startInspectedGateway({
    port: GATEWAY_PORT,
    adminToken: randomBytes(16).toString('hex'),
    // As npm start runs it: on jemalloc where installed.
    env: allocatorEnv(JEMALLOC ? 'jemalloc' : 'glibc'),
  });
  try {
    await gateway.collectGarbage();
    const before = await gateway.rssMb();
    const { sockets, failures } = await registerMany(
      `ws://127.0.0.1:${GATEWAY_PORT}/sip`,
      '127.0.0.1',
      idleClients,
    );
    await gateway.collectGarbage();
    const after = await gateway.rssMb();
    for (const socket of sockets) socket.terminate();
    return { before, after, registered: sockets.length - failures };
  } finally {
    await gateway.stop();
  }
}

async function bareNodeStartMs() {
  const program = `require('node:http').createServer().listen(${BARE_NODE_PORT}, '127.0.0.1')`;
  const server = await startServer(process.execPath, ['-e', program], { port: BARE_NODE_PORT });
  await server.stop();
  return server.startMs;
}

const f = (n, digits = 1) => n.toFixed(digits);
const kamailio = await measureKamailio(2);
const kamailioOneWorker = await measureKamailio(1);
const gateway = await measureGateway();
const bare = await bareNodeStartMs();
const memory = await measureGatewayMemory();

console.log(
  `REGISTER storm: ${connections} WebSocket connections, closed loop, ${seconds} s each, on ${process.arch}`,
);
console.log(describeGateway(gatewayEnv(GATEWAY_PORT)));
console.table({
  'Kamailio 5.6 (2 TCP workers)': {
    'REGISTER/s': Math.round(kamailio.perSecond),
    'p50 ms': f(kamailio.p50, 2),
    'p99 ms': f(kamailio.p99, 2),
    failures: kamailio.failures,
    'start ms': Math.round(kamailio.startMs),
  },
  'Kamailio 5.6 (1 TCP worker)': {
    'REGISTER/s': Math.round(kamailioOneWorker.perSecond),
    'p50 ms': f(kamailioOneWorker.p50, 2),
    'p99 ms': f(kamailioOneWorker.p99, 2),
    failures: kamailioOneWorker.failures,
    'start ms': Math.round(kamailioOneWorker.startMs),
  },
  'Ringway gateway (1 Node thread)': {
    'REGISTER/s': Math.round(gateway.perSecond),
    'p50 ms': f(gateway.p50, 2),
    'p99 ms': f(gateway.p99, 2),
    failures: gateway.failures,
    'start ms': Math.round(gateway.startMs),
  },
});
console.log(
  `ratio gateway/Kamailio REGISTER/s: ${f(gateway.perSecond / kamailio.perSecond, 2)}× (goal ≥ 1.0×); against one Kamailio worker: ${f(gateway.perSecond / kamailioOneWorker.perSecond, 2)}×`,
);
console.log(
  `start to listening: gateway ${Math.round(gateway.startMs)} ms (goal ≤ 100 ms), Kamailio ${Math.round(kamailio.startMs)} ms, bare Node http server ${Math.round(bare)} ms`,
);
console.log(
  `gateway RSS: ${f(memory.before)} MB idle, ${f(memory.after)} MB with ${memory.registered} registered WebSocket clients (goal ≤ 200 MB)`,
);
