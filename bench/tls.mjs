// npm run bench:tls — what TLS costs the gateway, measured against the same gateway over plain
// HTTP in the same run (the anchor): start-up (spawn → accepting) with the operator's certificate,
// with a self-signed one made at start, and with one kept from before; and new connections per
// second (connect, TLS handshake, GET /healthz, close) from a closed-loop client. Runs inside a
// private network namespace (scripts/in-loopback-namespace.sh): the gateway listens on 0.0.0.0
// there, which is only loopback and a link that leads nowhere.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { gatewayCommand, gatewayEnv } from './lib/gateway-process.mjs';
import { cpuMicroseconds, startServer } from './lib/processes.mjs';
import { median } from './lib/statistics.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PORT = 18_400;
const folder = mkdtempSync(join(tmpdir(), 'ringway-bench-tls-'));

// The operator's certificate: for 127.0.0.1, the address the client connects to, and trusted by it.
const pem = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
  keyType: 'ec',
  algorithm: 'sha256',
  extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
});
writeFileSync(join(folder, 'cert.pem'), pem.cert);
writeFileSync(join(folder, 'key.pem'), pem.private);
const keptDir = join(folder, 'kept');

const common = { HOST: '0.0.0.0', AUTH_SECRET: 'bench-tls-secret-0123456789' };
const variants = {
  'plain HTTP (anchor)': () => ({ TLS: 'off' }),
  'HTTPS, certificate files': () => ({
    TLS_CERT_FILE: join(folder, 'cert.pem'),
    TLS_KEY_FILE: join(folder, 'key.pem'),
  }),
  'HTTPS, self-signed made at start': () => ({ TLS_SELF_SIGNED_DIR: mkdtempSync(join(folder, 'fresh-')) }),
  'HTTPS, self-signed kept': () => ({ TLS_SELF_SIGNED_DIR: keptDir }),
};

const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)];

async function start(extra) {
  return startServer(process.execPath, gatewayCommand, {
    port: PORT,
    env: gatewayEnv(PORT, { ...common, ...extra }),
  });
}

/** One new connection: connect (and handshake), GET /healthz, read the answer, close. */
function oneRequest(secure) {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port: PORT, path: '/healthz', agent: false, ca: pem.cert };
    const request = (secure ? httpsRequest : httpRequest)(options, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode));
    });
    request.once('error', reject);
    request.end();
  });
}

/** Closed loop: `concurrency` clients, each opening a new connection as soon as the last one answered. */
async function connectionsPerSecond(secure) {
  const latencies = [];
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const began = performance.now();
      try {
        if ((await oneRequest(secure)) !== 200) failures++;
        else latencies.push(performance.now() - began);
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return {
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    failures,
  };
}

// Start-up, the variants alternating round by round so that a busy moment spreads over all.
const starts = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
await (await start(variants['HTTPS, self-signed kept']())).stop(); // makes the kept one
for (let round = 0; round < rounds; round++) {
  for (const [name, env] of Object.entries(variants)) {
    const server = await start(env());
    starts[name].push(server.startMs);
    await server.stop();
  }
}

const load = {};
for (const [name, secure] of [
  ['plain HTTP (anchor)', false],
  ['HTTPS, certificate files', true],
]) {
  const server = await start(variants[name]());
  try {
    const cpuBefore = await cpuMicroseconds(server.pid);
    const measured = await connectionsPerSecond(secure);
    const cpu = (await cpuMicroseconds(server.pid)) - cpuBefore;
    load[name] = { ...measured, gatewayCpuUs: cpu / (measured.perSecond * seconds) };
  } finally {
    await server.stop();
  }
}

const anchorStart = median(starts['plain HTTP (anchor)']);
console.log(
  `TLS cost: start-up over ${rounds} alternating rounds (medians); new connections per second from ${concurrency} closed-loop clients for ${seconds} s (client and gateway share the machine's cores)`,
);
console.table(
  Object.fromEntries(
    Object.entries(starts).map(([name, values]) => [
      name,
      {
        'start ms (median)': Math.round(median(values)),
        'vs plain': `${(median(values) / anchorStart).toFixed(2)}×`,
      },
    ]),
  ),
);
const anchorLoad = load['plain HTTP (anchor)'];
console.table(
  Object.fromEntries(
    Object.entries(load).map(([name, r]) => [
      name,
      {
        'connections/s': Math.round(r.perSecond),
        'p50 ms': r.p50.toFixed(2),
        'p99 ms': r.p99.toFixed(2),
        failures: r.failures,
        'gateway CPU µs/connection': Math.round(r.gatewayCpuUs),
        'vs plain': `${(r.perSecond / anchorLoad.perSecond).toFixed(2)}×`,
      },
    ]),
  ),
);
