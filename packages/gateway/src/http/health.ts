import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../metrics.js';

/**
 * Liveness, readiness and the Prometheus scrape endpoint. Not ready while closing, or while
 * `readiness()` names something the gateway needs and lacks.
 */
export default async function health(
  app: FastifyInstance,
  opts: { metrics: GatewayMetrics; readiness: () => string | undefined },
) {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const missing = closing ? 'shutting down' : opts.readiness();
    return missing ? reply.code(503).send({ status: missing }) : { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
}
