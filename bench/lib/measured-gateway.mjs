// A gateway in a child process that its parent can measure: forked with an IPC channel and
// --expose-gc, it answers { measure: true, gc } with its memory (after full garbage collections
// when asked), the Prometheus series count and a few gauges. Used by fuzz and soak.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildApp, loadConfig } from '../../packages/gateway/dist/index.js';
import { stopOnExit } from './cleanup.mjs';
import { nodeFlags } from './gateway-process.mjs';
import { groupGone } from './processes.mjs';

if (process.send && process.argv[2] === '--child') {
  const config = loadConfig(process.env);
  const app = await buildApp(config);
  await app.listen({ host: config.host, port: config.port });
  const scrape = async () => {
    const headers = process.env.ADMIN_TOKEN ? { authorization: `Bearer ${process.env.ADMIN_TOKEN}` } : {};
    return (await app.inject({ url: '/metrics', headers })).body;
  };
  process.on('message', async (request) => {
    if (request.stop) {
      await app.close();
      process.exit(0);
    }
    if (request.gc) {
      // Twice: the first may only promote what the second frees.
      globalThis.gc();
      globalThis.gc();
    }
    const metrics = await scrape();
    const gauge = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    process.send({
      rssMb: process.memoryUsage().rss / 1048576,
      heapMb: process.memoryUsage().heapUsed / 1048576,
      heapTotalMb: process.memoryUsage().heapTotal / 1048576,
      externalMb: process.memoryUsage().external / 1048576,
      series: metrics.split('\n').filter((l) => l && !l.startsWith('#')).length,
      transactions: gauge('ringway_proxy_transactions'),
      bindings: gauge('ringway_registrar_bindings'),
      connections: gauge('ringway_ws_connections'),
      internalErrors: gauge('ringway_sip_internal_errors_total'),
      eventLoopP99Ms: gauge('nodejs_eventloop_lag_p99_seconds') * 1000,
    });
  });
  process.send({ listening: app.server.address().port });
}

/**
 * Starts the gateway with `env` in a child process (a process group of its own, registered with
 * cleanup.mjs like every server a benchmark starts); resolves once it listens.
 */
export async function startMeasuredGateway(env) {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], {
    env: { ...process.env, ...env },
    execArgv: ['--expose-gc', ...nodeFlags],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    detached: true,
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (child.connected) child.send({ stop: true });
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      await groupGone(child.pid);
      forget();
    })();
    return stopping;
  };
  const forget = stopOnExit('the measured gateway', stop, { pgid: child.pid });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}`)));
    child.once('message', (m) => resolve(m.listening));
  });
  const ask = (request) =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send(request);
    });
  return {
    port,
    pid: child.pid,
    measure: (gc = false) => ask({ measure: true, gc }),
    stop,
  };
}
