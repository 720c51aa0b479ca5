import cluster, { type Worker } from 'node:cluster';
import { EX_CONFIG } from './config/process-config.js';
import type { Logger } from './sip/logger.js';
import { isHandedOverRequest } from './sip/upstream/sibling-workers.js';

/** The environment variable that tells a worker its index (its upstream port is the base + it). */
export const WORKER_INDEX = 'RINGWAY_WORKER_INDEX';

/** A worker that dies this soon after it started is dying at start-up: wait longer each time, up to 5 s. */
const STEADY_MS = 2000;
const restartDelay = (quickDeaths: number) => Math.min(5000, 100 * 2 ** quickDeaths);

/**
 * The primary process of `WORKERS` > 1: starts the workers (each a whole gateway sharing the
 * listening port through Node's cluster), starts another in a dead one's place (its clients
 * reconnect by themselves and register again through it), and on SIGTERM or SIGINT passes the
 * signal on and exits once every worker has closed (each drains its calls first): 0 when each
 * closed cleanly, else 1 (or EX_CONFIG), so that whoever stopped the gateway hears of a failure.
 */
export function superviseWorkers(count: number, log: Logger): void {
  let stopping = false;
  const quickDeaths = new Map<number, number>();
  const workers = new Map<number, Worker>();

  const start = (index: number) => {
    const startedAt = Date.now();
    const worker: Worker = cluster.fork({ [WORKER_INDEX]: String(index) });
    workers.set(index, worker);
    // A request of the upstream for a client the worker does not carry: the next worker's turn
    // (sibling-workers.ts).
    worker.on('message', (message: unknown) => {
      const next = isHandedOverRequest(message) ? workers.get((message.from + 1) % count) : undefined;
      if (next?.isConnected()) next.send(message as object);
    });
    worker.once('exit', (code, signal) => {
      if (stopping) return;
      // EX_CONFIG: the worker said why in one line; another would only say it again.
      if (code === EX_CONFIG) {
        stop('SIGTERM');
        process.exitCode = EX_CONFIG;
        return;
      }
      const quick = Date.now() - startedAt < STEADY_MS ? (quickDeaths.get(index) ?? 0) + 1 : 0;
      quickDeaths.set(index, quick);
      const delayMs = restartDelay(quick);
      log.warn(
        { worker: index, pid: worker.process.pid, code, signal, restartInMs: delayMs },
        'worker ended; starting another',
      );
      setTimeout(() => start(index), delayMs);
    });
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping the workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  cluster.on('exit', (_worker, code) => {
    if (!stopping) return;
    // A worker ended by close-with-grace's deadline (1), a crash or a kill (no code).
    if (code !== 0) process.exitCode ||= 1;
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
  });
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  for (let index = 0; index < count; index++) start(index);
  log.info({ workers: count }, `${count} workers share the port`);
}
