import { hostname } from 'node:os';
import { type DestinationStream, destination, type LoggerOptions, stdTimeFunctions } from 'pino';
import type { GatewayConfig } from './config/config-schema.js';

/**
 * The gateway's log settings, for Fastify's logger and the worker supervisor alike: ISO-8601
 * timestamps a person can read (pino's default is epoch milliseconds), the configured level. pid
 * and hostname are pino's default fields, asked for here: pino reads them when it is loaded, which
 * for a start from the V8 start-up snapshot was the build (every process logged the builder's pid).
 */
export function logOptions(config: Pick<GatewayConfig, 'logLevel'>): LoggerOptions {
  return {
    level: config.logLevel,
    name: 'ringway-gateway',
    timestamp: stdTimeFunctions.isoTime,
    base: { pid: process.pid, hostname: hostname() },
  };
}

/** Whether LOG_FORMAT asks for lines for people: `pretty`, or `auto` on a terminal. */
function logsForPeople(format: GatewayConfig['logFormat']): boolean {
  return format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
}

/**
 * Where log lines go: JSON lines for machines (collectors, `docker compose logs | jq`), or
 * pino-pretty's coloured lines for people. Either way the lines leave asynchronously (batched
 * while a write is in flight, flushed at exit), so that writing them stays off the path of the
 * messages they describe. pino-pretty is loaded only when asked for.
 */
export async function logDestination(format: GatewayConfig['logFormat']): Promise<DestinationStream> {
  if (!logsForPeople(format)) return destination({ dest: 1, sync: false });
  const { default: pretty } = await import('pino-pretty');
  return pretty({
    destination: destination({ dest: 1, sync: false }),
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname,name',
  });
}
