import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CallTokens } from '../calls/call-tokens.js';
import { type QualityReport, QualityReportSchema, type QualityReports } from '../calls/quality-reports.js';

const Problem = Type.Object({ error: Type.String() });

/**
 * `POST /api/calls/{callId}/quality`: a softphone's quality report when a call ends, with
 * `Authorization: Bearer <call token>` — the token the gateway handed that party in the call's
 * SIP (Ringway-Call-Token), so only the call's parties can report on it.
 */
export default async function callsApi(
  app: FastifyInstance,
  opts: { reports: QualityReports; callTokens: CallTokens },
) {
  app.post<{ Params: { callId: string }; Body: QualityReport }>(
    '/api/calls/:callId/quality',
    {
      bodyLimit: 4096,
      schema: {
        params: Type.Object({ callId: Type.String({ minLength: 1, maxLength: 256 }) }),
        body: QualityReportSchema,
        headers: Type.Object({ authorization: Type.Optional(Type.String({ maxLength: 512 })) }),
        response: { 202: Type.Object({ taken: Type.Boolean() }), 401: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      const party = token === undefined ? undefined : opts.callTokens.verify(token, request.params.callId);
      if (party === undefined) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="ringway call"')
          .send({ error: 'a party of the call reports with its call token (Authorization: Bearer …)' });
      }
      const outcome = opts.reports.take(request.params.callId, party, request.body);
      if (outcome === 'unknown call')
        return reply.code(404).send({ error: 'no call with this Call-ID went through this gateway' });
      if (outcome === 'already reported')
        return reply.code(409).send({ error: 'this side of the call has reported already' });
      request.log.info({ callId: request.params.callId, report: request.body }, 'call quality report');
      return reply.code(202).send({ taken: true });
    },
  );
}
