import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CallRing, CapturedCall } from '../sip-capture/call-ring.js';
import { ladderOf, ladderText } from '../sip-capture/ladder.js';
import { capturePcap } from '../sip-capture/pcap.js';
import { OPERATOR_CALLS_CSS, OPERATOR_CALLS_HTML, OPERATOR_CALLS_SCRIPT } from './operator-calls-page.js';

const Problem = Type.Object({ error: Type.String() });

const CallSummary = Type.Object({
  callId: Type.String(),
  startedAt: Type.String({ description: 'ISO 8601' }),
  from: Type.Optional(Type.String()),
  to: Type.Optional(Type.String()),
  outcome: Type.String({ description: 'calling, ringing, answered, rejected or cancelled' }),
  status: Type.Optional(Type.Integer({ description: 'the final answer to the initial INVITE' })),
  ringingMs: Type.Optional(Type.Number()),
  setupMs: Type.Optional(Type.Number({ description: 'INVITE to its final answer' })),
  endedAt: Type.Optional(Type.String()),
  mos: Type.Array(Type.Number(), { description: "each party's quality report" }),
  messages: Type.Integer(),
  bytes: Type.Integer(),
  truncated: Type.Boolean(),
});

const Ladder = Type.Object({
  columns: Type.Array(Type.Object({ role: Type.String(), addresses: Type.Array(Type.String()) })),
  arrows: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      from: Type.Integer(),
      to: Type.Integer(),
      offsetMs: Type.Number(),
      label: Type.String(),
      cseq: Type.String(),
      transport: Type.String(),
      text: Type.String(),
    }),
  ),
});

const CallParams = Type.Object({ callId: Type.String({ minLength: 1, maxLength: 256 }) });

function summary(call: CapturedCall) {
  return {
    callId: call.callId,
    startedAt: new Date(call.startedAt).toISOString(),
    from: call.from,
    to: call.to,
    outcome: call.outcome,
    status: call.status,
    ringingMs: call.ringingMs,
    setupMs: call.setupMs,
    endedAt: call.endedAt === undefined ? undefined : new Date(call.endedAt).toISOString(),
    mos: call.mos,
    messages: call.messages.length,
    bytes: call.bytes,
    truncated: call.truncated,
  };
}

/** A file name from a Call-ID: only characters no header or file system reads specially. */
const fileName = (callId: string, extension: string) =>
  `call-${callId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)}.${extension}`;

/** The operator page's own script and style only; nothing inline, nothing from elsewhere. */
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Recent calls for operators (operator-access.ts guards `/operator` and `/api/operator`): the list,
 * one call's ladder (participants, arrows, every message, secrets masked), and its export as text
 * and as pcap; `GET /operator/calls` is the page that draws them, as sngrep does in a terminal.
 */
export default async function operatorCalls(app: FastifyInstance, opts: { ring: CallRing }) {
  const { ring } = opts;
  const found = (callId: string, reply: FastifyReply) => {
    const call = ring.get(callId);
    if (!call)
      reply.code(404).send({ error: 'no such call among the recent calls kept (SIP_CAPTURE_CALLS)' });
    return call;
  };

  app.get(
    '/api/operator/calls',
    { schema: { response: { 200: Type.Object({ calls: Type.Array(CallSummary) }) } } },
    async () => ({ calls: ring.calls().map(summary) }),
  );

  app.get<{ Params: { callId: string } }>(
    '/api/operator/calls/:callId',
    {
      schema: {
        params: CallParams,
        response: { 200: Type.Object({ ...CallSummary.properties, ladder: Ladder }), 404: Problem },
      },
    },
    async (request, reply) => {
      const call = found(request.params.callId, reply);
      if (!call) return reply;
      return { ...summary(call), ladder: ladderOf(call) };
    },
  );

  // The call's exports: Wireshark's pcap and the ladder as text, each a download.
  const exports = [
    {
      format: 'pcap',
      type: 'application/vnd.tcpdump.pcap',
      extension: 'pcap',
      body: (call: CapturedCall) => capturePcap(call.messages),
    },
    { format: 'text', type: 'text/plain; charset=utf-8', extension: 'txt', body: ladderText },
  ];
  for (const { format, type, extension, body } of exports) {
    app.get<{ Params: { callId: string } }>(
      `/api/operator/calls/:callId/${format}`,
      { schema: { params: CallParams } },
      async (request, reply) => {
        const call = found(request.params.callId, reply);
        if (!call) return reply;
        return reply
          .type(type)
          .header('content-disposition', `attachment; filename="${fileName(call.callId, extension)}"`)
          .send(body(call));
      },
    );
  }

  const page = (type: string, body: string) => async (_request: unknown, reply: FastifyReply) =>
    reply
      .type(type)
      .header('content-security-policy', PAGE_POLICY)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(body);
  const hidden = { schema: { hide: true } };
  app.get('/operator/calls', hidden, page('text/html; charset=utf-8', OPERATOR_CALLS_HTML));
  app.get('/operator/calls.js', hidden, page('text/javascript; charset=utf-8', OPERATOR_CALLS_SCRIPT));
  app.get('/operator/calls.css', hidden, page('text/css; charset=utf-8', OPERATOR_CALLS_CSS));
}
