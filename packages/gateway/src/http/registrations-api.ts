import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { SipServer } from '../sip/sip-server.js';

const Registration = Type.Object({
  aor: Type.String(),
  contact: Type.String(),
  expiresInSeconds: Type.Integer(),
  remoteAddress: Type.Optional(Type.String()),
  userAgent: Type.Optional(Type.String()),
});

/** `GET /api/registrations`: the registrar's bindings, for operators. */
export default async function registrationsApi(app: FastifyInstance, opts: { sip: SipServer }) {
  app.get(
    '/api/registrations',
    { schema: { response: { 200: Type.Object({ registrations: Type.Array(Registration) }) } } },
    async () => {
      const now = Date.now();
      return {
        registrations: opts.sip.location.all().map((b) => ({
          aor: b.aor,
          contact: b.contact,
          expiresInSeconds: Math.max(0, Math.round((b.expiresAt - now) / 1000)),
          remoteAddress: opts.sip.flows.get(b.flowId)?.remoteAddress,
          userAgent: b.userAgent,
        })),
      };
    },
  );
}
