import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayConfig } from '../config/config-schema.js';

/** A Host header this server will name in a redirect: an IP literal or a DNS name, and a port. */
const HOST_HEADER = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?$/;

/**
 * The optional plain-HTTP port (HTTP_REDIRECT_PORT): every request is sent to the same path over
 * HTTPS on the gateway's port (308, so that a POST stays a POST). Nothing else is served on it. The
 * host is the configured public one, else the one the browser asked for (when it looks like a host).
 */
async function httpsRedirect(app: FastifyInstance, opts: { config: GatewayConfig; redirectPort: number }) {
  const { config, redirectPort } = opts;
  const server: Server = createServer((request, response) => {
    const asked = HOST_HEADER.exec(request.headers.host ?? '');
    const host = config.publicHost ?? asked?.[1];
    if (!host) {
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end('a Host header is required\n');
      return;
    }
    const listening = (app.server.address() as AddressInfo | null)?.port ?? config.port;
    const port = listening === 443 ? '' : `:${listening}`;
    response.writeHead(308, { Location: `https://${host}${port}${request.url ?? '/'}` }).end();
  });
  server.headersTimeout = config.limits.firstRequestMs;
  server.requestTimeout = config.limits.firstRequestMs;
  app.addHook(
    'onListen',
    () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(redirectPort, config.host, () => {
          app.log.info(`plain HTTP on port ${redirectPort} redirects to HTTPS`);
          resolve();
        });
      }),
  );
  app.addHook(
    'onClose',
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
}

export default fp(httpsRedirect, { name: 'https-redirect' });
