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

/** A gateway in upstream mode in front of `upstream`, resolved once its first keep-alive is answered. */
export async function startUpstreamGateway(
  upstream: string,
  env: Record<string, string> = {},
): Promise<RunningGateway> {
  const gateway = await startGateway({ UPSTREAM: upstream, ...env });
  const deadline = Date.now() + 5000;
  while (!gateway.app.sip.upstream?.up) {
    if (Date.now() > deadline) {
      await gateway.close();
      throw new Error(`the upstream ${upstream} did not answer in 5 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return gateway;
}

/**
 * The series of metric `name` on the gateway's /metrics, a line each (`name{labels} value`, or
 * `name value` without labels); `token` is ADMIN_TOKEN where the gateway requires it.
 */
export async function metricLines(gateway: RunningGateway, name: string, token?: string): Promise<string[]> {
  const { body } = await gateway.app.inject({
    url: '/metrics',
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return body.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}
