import cluster from 'node:cluster';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from './app.js';
import type { GatewayConfig } from './config/config-schema.js';
import { loadProcessConfig, stopOnConfigError } from './config/process-config.js';
import { logDestination, logOptions } from './logging.js';
import { clusterSiblings } from './sip/upstream/sibling-workers.js';
import { serverCertificate } from './tls/server-certificate.js';
import { superviseWorkers, WORKER_INDEX } from './worker-supervisor.js';

// Milliseconds since the process began (performance.now() counts from there) at the end of each
// start-up phase, for the start-up log line: a slow start shows where it went.
const phasesMs: Record<string, number> = { load: Math.round(performance.now()) };
const phaseEnds = (name: string) => {
  phasesMs[name] = Math.round(performance.now());
};

const config = loadProcessConfig(import.meta.url);
phaseEnds('config');

if (cluster.isPrimary && config.workers > 1) {
  // A self-signed certificate is made (or found) once, here, so that every worker serves the same.
  await serverCertificate(config).catch(stopOnConfigError);
  superviseWorkers(config.workers, pino(logOptions(config), await logDestination(config.logFormat)));
} else {
  await serve(config);
}

/** One gateway process: the only one, or worker number RINGWAY_WORKER_INDEX of several. */
async function serve(config: GatewayConfig): Promise<void> {
  const worker = Number(process.env[WORKER_INDEX] ?? 0);
  // Each worker has an upstream side of its own: the Paths and Record-Routes it writes name it.
  // Its siblings' are known only when fixed (UPSTREAM_LOCAL_PORT), and only they outlive a restart.
  const siblings =
    cluster.isWorker && config.upstreamLocalPort
      ? clusterSiblings(worker, config.workers, config.upstreamLocalPort)
      : undefined;
  if (config.upstreamLocalPort) config.upstreamLocalPort += worker;
  let app: FastifyInstance;
  try {
    app = await buildApp(config, { siblings });
    phaseEnds('plugins');
  } catch (error) {
    stopOnConfigError(error);
  }
  closeWithGrace({ delay: config.timers.shutdownGraceMs + 2000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });
  await app.listen({ host: config.host, port: config.port });
  phaseEnds('listen');
  const { port } = app.server.address() as { port: number };
  app.log.info(
    {
      startupMs: phasesMs.listen,
      phasesMs,
      sipDomain: config.sipDomain,
      ...(cluster.isWorker ? { worker } : {}),
    },
    `SIP WebSocket at ${app.initialConfig.https ? 'wss' : 'ws'}://${config.host}:${port}/sip`,
  );
}
