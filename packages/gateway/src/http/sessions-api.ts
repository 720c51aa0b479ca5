import type { ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { RendezvousSession } from '../sessions/rendezvous-session.js';
import type { SessionService } from '../sessions/session-service.js';
import { SessionState } from '../sessions/session-state.js';
import { requestOrigin } from './request-origin.js';

/** Join attempts per client address and minute (a code has 4+ characters of 36). */
const JOIN_ATTEMPTS_PER_MINUTE = 30;
/** When to try again while the session store is unreachable, s. */
const STORE_RETRY_AFTER_S = 5;

const State = Type.Enum(SessionState);
const Credentials = Type.Object({
  uri: Type.String(),
  authorizationUsername: Type.String(),
  authorizationPassword: Type.String(),
  wsServer: Type.String(),
  iceServers: Type.Array(Type.Unknown()),
});
const SessionView = Type.Object({
  id: Type.String(),
  state: State,
  reason: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
});
const Created = Type.Composite([
  SessionView,
  Type.Object({ code: Type.String(), joinUrl: Type.String(), credentials: Credentials }),
]);
const Joined = Type.Composite([SessionView, Type.Object({ credentials: Credentials, peer: Type.String() })]);
const ErrorReply = Type.Object({ error: Type.String() });
const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{32}$' }) });
const CodeParams = Type.Object({ code: Type.String({ pattern: '^[a-z0-9]{4,32}$' }) });

function view(session: RendezvousSession): Static<typeof SessionView> {
  return {
    id: session.id,
    state: session.state,
    reason: session.reason,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

/**
 * Rendezvous sessions: create (rate-limited per client address), join by code, read, leave, and
 * follow every state change as Server-Sent Events.
 */
export default async function sessionsApi(
  app: FastifyInstance,
  opts: {
    sessions: SessionService;
    createPerMinute: number;
    /** Who may create a link (CALL_LINKS); joining needs no account either way. */
    callLinks: 'off' | 'signed-in' | 'anyone';
    /** The person an Authorization header proves (accounts/signed-in-user.ts). */
    signedInUser: (authorization: string | undefined) => string | undefined;
  },
) {
  const { sessions } = opts;
  const streams = new Set<ServerResponse>();
  // Event streams never go idle: end them, or closing the server would wait for them forever.
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });
  await app.register(rateLimit, { global: false });
  // While the store (Redis) is away every session request fails: say so at once, and when to
  // come back, instead of a 500 after retries.
  app.addHook('onRequest', async (_request, reply) => {
    if (!sessions.available) {
      return reply
        .code(503)
        .header('retry-after', String(STORE_RETRY_AFTER_S))
        .send({ error: 'sessions are unavailable: the session store cannot be reached' });
    }
  });

  app.post(
    '/api/sessions',
    {
      config: { rateLimit: { max: opts.createPerMinute, timeWindow: '1 minute' } },
      schema: {
        summary: 'Create a session; the reply carries the link to share and the creator’s credentials',
        response: { 201: Created, 401: ErrorReply, 403: ErrorReply, 503: ErrorReply },
      },
    },
    async (request, reply) => {
      if (opts.callLinks === 'off')
        return reply.code(403).send({ error: 'call links are turned off on this server (CALL_LINKS=off)' });
      if (opts.callLinks === 'signed-in' && opts.signedInUser(request.headers.authorization) === undefined)
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="ringway", Basic realm="ringway"')
          .send({ error: 'sign in to create a call link' });
      const where = requestOrigin(request);
      const created = await sessions.create(where.ws);
      if (!created)
        return reply.code(503).header('retry-after', '60').send({ error: 'too many live sessions' });
      return reply.code(201).send({
        ...view(created.session),
        code: created.code,
        joinUrl: `${where.http}/?join=${created.code}`,
        credentials: created.credentials,
      });
    },
  );

  app.post(
    '/api/sessions/:code/join',
    {
      // Codes are short enough to type: a guesser gets a few tries a minute, not hundreds a second.
      config: { rateLimit: { max: JOIN_ATTEMPTS_PER_MINUTE, timeWindow: '1 minute' } },
      schema: {
        summary:
          'Join a session by its code; the reply carries the joiner’s credentials and the peer to call',
        params: CodeParams,
        response: { 200: Joined, 404: ErrorReply, 409: ErrorReply, 410: ErrorReply },
      },
    },
    async (request, reply) => {
      const { code } = request.params as Static<typeof CodeParams>;
      const outcome = await sessions.join(code, requestOrigin(request).ws);
      if (!outcome.ok) return reply.code(outcome.status).send({ error: outcome.error });
      return { ...view(outcome.session), credentials: outcome.credentials, peer: outcome.peer };
    },
  );

  app.get(
    '/api/sessions/:id',
    {
      schema: {
        summary: 'Read a session',
        params: IdParams,
        response: { 200: SessionView, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const session = await sessions.get((request.params as Static<typeof IdParams>).id);
      return session ? view(session) : reply.code(404).send({ error: 'no such session' });
    },
  );

  app.delete(
    '/api/sessions/:id',
    {
      schema: {
        summary: 'Leave (end) a session',
        params: IdParams,
        response: { 200: SessionView, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      const ended = await sessions.end(id, 'a participant left');
      const session = ended ?? (await sessions.get(id));
      return session ? view(session) : reply.code(404).send({ error: 'no such session' });
    },
  );

  app.get(
    '/api/sessions/:id/events',
    {
      schema: {
        summary: 'Every state change, as Server-Sent Events (the current state first)',
        params: IdParams,
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      const session = await sessions.get(id);
      if (!session) return reply.code(404).send({ error: 'no such session' });
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      const send = (event: { state: string; reason: string; at: number }) =>
        raw.write(`event: state\ndata: ${JSON.stringify(event)}\n\n`);
      const unsubscribe = sessions.subscribe(id, send);
      send({ state: session.state, reason: session.reason, at: session.stateChangedAt });
      const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
      streams.add(raw);
      request.raw.on('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
        streams.delete(raw);
      });
    },
  );
}
