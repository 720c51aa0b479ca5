import type { LogFn } from 'pino';

/** The logging the SIP layer needs; any pino logger (Fastify's included) provides it. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}
