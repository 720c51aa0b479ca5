import Fastify, { type FastifyInstance } from 'fastify';
import type { GatewayConfig } from './config/config-schema.js';
import health from './http/health.js';
import registrationsApi from './http/registrations-api.js';
import sipWebSocket from './http/sip-websocket.js';
import softphonePage from './http/softphone-page.js';
import { createMetrics } from './metrics.js';
import { SipServer } from './sip/sip-server.js';

declare module 'fastify' {
  interface FastifyInstance {
    sip: SipServer;
  }
}

/**
 * Builds the gateway without listening: tests call `inject()` on it or `listen({ port: 0 })`.
 * Nothing here touches DNS.
 */
export async function buildApp(config: GatewayConfig): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: config.logLevel, name: 'ringway-gateway' },
    // Behind no proxy by default; the client address is the socket's.
    trustProxy: false,
  });
  const metrics = createMetrics();
  const sip = new SipServer(config, app.log, metrics);
  app.decorate('sip', sip);
  if (config.allowAnonymous) {
    app.log.warn(
      'anonymous registration is allowed (loopback development mode); set AUTH_SECRET or USERS_FILE to require credentials',
    );
  }
  app.addHook('onListen', async () => {
    const address = app.server.address();
    if (address && typeof address === 'object') sip.setListeningPort(address.port);
  });
  app.addHook('onClose', async () => sip.close());
  await app.register(health, { metrics });
  await app.register(sipWebSocket, { config, sip });
  await app.register(registrationsApi, { sip });
  await app.register(softphonePage, { config });
  return app;
}
