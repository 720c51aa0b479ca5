import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/config-schema.js';

const GatewaySettings = Type.Object({
  sipDomain: Type.String(),
  wsPath: Type.String(),
  /** WS_SERVERS: every gateway of the deployment, for the phone to move round; none when this one is alone. */
  wsServers: Type.Array(Type.String()),
  iceServers: Type.Array(Type.Unknown()),
  anonymous: Type.Boolean(),
  signIn: Type.Boolean(),
  /** Who may create a call link (CALL_LINKS): the page offers the button only to them. */
  callLinks: Type.Union([Type.Literal('off'), Type.Literal('signed-in'), Type.Literal('anyone')]),
});

/**
 * The softphone page at `/`, and `GET /api/config`: what the page needs to register (SIP domain,
 * WebSocket path and the deployment's other gateways (WS_SERVERS), the ICE servers of ICE_SERVERS, whether anonymous registration is on, whether
 * people sign in with a password at `/api/sign-in`, who may create a call link).
 */
export default async function softphonePage(
  app: FastifyInstance,
  opts: { config: GatewayConfig; signIn: boolean },
) {
  const { config } = opts;
  app.get('/api/config', { schema: { response: { 200: GatewaySettings } } }, async () => ({
    sipDomain: config.sipDomain,
    wsPath: '/sip',
    wsServers: config.wsServers,
    iceServers: config.iceServers,
    anonymous: config.allowAnonymous,
    signIn: opts.signIn,
    callLinks: config.sessions.callLinks,
  }));
  const root = config.softphoneDir;
  if (!root || !existsSync(root)) {
    app.log.warn({ root }, 'softphone page not built (npm run build); / is not served');
    return;
  }
  await app.register(fastifyStatic, { root, index: 'index.html' });
  // What a browser asks for on a page that names no icon (the API docs, a JSON reply): the page's.
  app.get('/favicon.ico', { schema: { hide: true } }, (_request, reply) =>
    reply.type('image/svg+xml').sendFile('favicon.svg'),
  );
}
