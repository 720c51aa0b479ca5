import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayConfig } from '../config/config-schema.js';

/** Endpoints that show every user's addresses, devices and traffic: for the operator only. */
const OPERATOR_PATHS = ['/metrics', '/api/registrations'];
const OPERATOR_PREFIXES = ['/docs', '/operator', '/api/operator'];

function isOperatorPath(url: string): boolean {
  return OPERATOR_PATHS.includes(url) || OPERATOR_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`));
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * The token an operator presents: `Bearer <token>`, or Basic credentials whose password is the
 * token (any user name), which is what a browser can send by itself for an operator page
 * (`/operator/calls`) after asking the person once.
 */
function presentedToken(authorization: string | undefined): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (bearer !== undefined) return bearer;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '')?.[1];
  if (basic === undefined) return undefined;
  const pair = Buffer.from(basic, 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  return colon === -1 ? undefined : pair.slice(colon + 1);
}

/**
 * Operator endpoints (`/metrics`, `/api/registrations`, `/docs`, the recent calls of `/operator`
 * and `/api/operator`) need `Authorization: Bearer <ADMIN_TOKEN>` (or Basic with it as password) whenever users need credentials (AUTH_SECRET or USERS_FILE) or a token is set;
 * with credentials and no token they stay closed (403). In anonymous loopback development mode,
 * without a token, they are open like everything else there.
 */
async function operatorAccess(app: FastifyInstance, opts: { config: GatewayConfig }) {
  const { adminToken, authSecret, usersFile } = opts.config;
  if (adminToken === undefined && !authSecret && !usersFile) return;
  const expected = adminToken === undefined ? undefined : digest(adminToken);

  const guard: onRequestHookHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!expected) {
      return reply.code(403).send({ error: 'operator endpoints are closed: set ADMIN_TOKEN to open them' });
    }
    const given = presentedToken(request.headers.authorization);
    // Compared as digests, so the time taken says nothing about the token, not even its length.
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      // Basic too, so that a browser opening an operator page asks for the token.
      return reply
        .code(401)
        .header('www-authenticate', ['Bearer realm="ringway operator"', 'Basic realm="ringway operator"'])
        .send({ error: 'operator credential required (Authorization: Bearer <ADMIN_TOKEN>)' });
    }
  };

  app.addHook('onRoute', (route) => {
    if (!isOperatorPath(route.url)) return;
    const existing = route.onRequest;
    route.onRequest = [guard, ...(existing === undefined ? [] : [existing].flat())];
  });
}

export default fp(operatorAccess, { name: 'operator-access' });
