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

/** How this process got its code, for the start-up log line (start.sh says why it fell back). */
export interface StartedFrom {
  /** `snapshot`: deserialized from the V8 start-up snapshot; `bundle`: the bundle compiled and run. */
  code: 'snapshot' | 'bundle';
  /** Why start.sh did not use the snapshot (RINGWAY_START_FALLBACK), when it did not. */
  fallback?: string;
}

/**
 * Starts the gateway: the primary of WORKERS > 1, or one gateway process. Everything that makes
 * handles, reads the environment or the clock is here, not at module load, so that a V8 start-up
 * snapshot of the loaded modules (snapshot-entry.ts) holds no process state. `entryUrl` is the
 * running entry's URL (the page is found beside it); `loadedMs`, when the code was loaded.
 */
export async function startGateway(
  entryUrl: string,
  from: StartedFrom,
  loadedMs = performance.now(),
): Promise<void> {
  // Milliseconds since the process began (performance.now() counts from there) at the end of each
  // start-up phase, for the start-up log line: a slow start shows where it went.
  const phasesMs: Record<string, number> = { load: Math.round(loadedMs) };
  const phaseEnds = (name: string) => {
    phasesMs[name] = Math.round(performance.now());
  };

  const config = loadProcessConfig(entryUrl);
  phaseEnds('config');

  if (cluster.isPrimary && config.workers > 1) {
    // A self-signed certificate is made (or found) once, here, so that every worker serves the same.
    await serverCertificate(config).catch(stopOnConfigError);
    superviseWorkers(config.workers, pino(logOptions(config), await logDestination(config.logFormat)));
  } else {
    await serve(config, from, phasesMs, phaseEnds);
  }
}

/** One gateway process: the only one, or worker number RINGWAY_WORKER_INDEX of several. */
async function serve(
  config: GatewayConfig,
  from: StartedFrom,
  phasesMs: Record<string, number>,
  phaseEnds: (name: string) => void,
): Promise<void> {
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
      startedFrom: from,
      sipDomain: config.sipDomain,
      ...(cluster.isWorker ? { worker } : {}),
    },
    `SIP WebSocket at ${app.initialConfig.https ? 'wss' : 'ws'}://${config.host}:${port}/sip`,
  );
}
