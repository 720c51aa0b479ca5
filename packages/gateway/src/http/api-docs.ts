import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';

/** Headers of the documentation app's answers that the reply sets itself. */
const OWN_HEADERS = new Set(['content-length', 'connection', 'transfer-encoding', 'date', 'keep-alive']);

/**
 * The API's description (OpenAPI at `/docs/json`) and Swagger UI (`/docs`), built on the first
 * request for them. @fastify/swagger, its UI and YAML are a fifth of what the gateway would
 * otherwise load before it listens, for pages an operator opens now and then. Every route's
 * options are noted as it is added; the first request builds a Fastify instance of its own with
 * the same routes (handlers that never run) under @fastify/swagger, and requests for `/docs`
 * are answered by it. `/docs` stays an operator endpoint (operator-access.ts guards it).
 */
async function apiDocs(app: FastifyInstance, opts: { title: string; version: string }) {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    // HEAD routes are Fastify's own twins of GET routes; the documentation app makes its own.
    if (route.url.startsWith('/docs') || route.method === 'HEAD') return;
    routes.push(route);
  });

  let documentation: Promise<FastifyInstance> | undefined;
  const build = async () => {
    const [{ default: Fastify }, { default: swagger }, { default: swaggerUi }] = await Promise.all([
      import('fastify'),
      import('@fastify/swagger'),
      import('@fastify/swagger-ui'),
    ]);
    const docs = Fastify({ logger: false });
    await docs.register(swagger, { openapi: { info: { title: opts.title, version: opts.version } } });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
    const described = async () => undefined;
    for (const { method, url, schema } of routes) docs.route({ method, url, schema, handler: described });
    await docs.ready();
    return docs;
  };

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    documentation ??= build();
    const answer = await (await documentation).inject({
      method: 'GET',
      url: request.url,
      headers: { accept: request.headers.accept ?? '*/*' },
    });
    for (const [name, value] of Object.entries(answer.headers))
      if (!OWN_HEADERS.has(name) && value !== undefined) reply.header(name, value);
    return reply.code(answer.statusCode).send(answer.rawPayload);
  };
  app.get('/docs', { schema: { hide: true } }, serve);
  app.get('/docs/*', { schema: { hide: true } }, serve);
}

export default fp(apiDocs, { name: 'api-docs' });
