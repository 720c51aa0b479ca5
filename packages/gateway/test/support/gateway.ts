import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';

export interface RunningGateway {
  app: FastifyInstance;
  port: number;
  wsUrl: string;
  close(): Promise<void>;
}

/** A gateway listening on loopback (a free port unless env.PORT names one), configured from `env` as main.ts would be. */
export async function startGateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const config = loadConfig({
    SOFTPHONE_DIR: fileURLToPath(new URL('../../../softphone/dist/page/', import.meta.url)),
    LOG_LEVEL: process.env.GATEWAY_LOG_LEVEL ?? 'silent',
    PORT: '0',
    SIP_DOMAIN: 'ringway.test',
    ...env,
  });
  const app = await buildApp(config);
  await app.listen({ host: config.host, port: Number(env.PORT ?? 0) });
  const port = (app.server.address() as { port: number }).port;
  return { app, port, wsUrl: `ws://127.0.0.1:${port}/sip`, close: () => app.close() };
}
