import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type QualityReport, QualityReportSchema, type QualityReports } from '../calls/quality-reports.js';

const Problem = Type.Object({ error: Type.String() });

/** `POST /api/calls/{callId}/quality`: a softphone's quality report when a call ends. */
export default async function callsApi(app: FastifyInstance, opts: { reports: QualityReports }) {
  app.post<{ Params: { callId: string }; Body: QualityReport }>(
    '/api/calls/:callId/quality',
    {
      bodyLimit: 4096,
      schema: {
        params: Type.Object({ callId: Type.String({ minLength: 1, maxLength: 256 }) }),
        body: QualityReportSchema,
        response: { 202: Type.Object({ taken: Type.Boolean() }), 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const outcome = opts.reports.take(request.params.callId, request.body);
      if (outcome === 'unknown call')
        return reply.code(404).send({ error: 'no call with this Call-ID went through this gateway' });
      if (outcome === 'already reported')
        return reply.code(409).send({ error: 'both sides of this call have reported' });
      request.log.info({ callId: request.params.callId, report: request.body }, 'call quality report');
      return reply.code(202).send({ taken: true });
    },
  );
}
