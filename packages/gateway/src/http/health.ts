import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../metrics.js';

/** Liveness, readiness and the Prometheus scrape endpoint. */
export default async function health(app: FastifyInstance, opts: { metrics: GatewayMetrics }) {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) =>
    closing ? reply.code(503).send({ status: 'shutting down' }) : { status: 'ready' },
  );
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
}
