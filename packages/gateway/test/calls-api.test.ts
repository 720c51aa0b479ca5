import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inviter, SessionState, UserAgent } from 'sip.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { type Phone, reached, sipjsPhone } from './support/sipjs.js';

const CALL_TOKEN = 'Ringway-Call-Token';
let gateway: RunningGateway;
const phones: Phone[] = [];
let callId: string;
/** The tokens the gateway handed the caller (on the 200) and the callee (on the INVITE). */
let callerToken: string | undefined;
let calleeToken: string | undefined;

beforeAll(async () => {
  gateway = await startGateway();
  const alice = await sipjsPhone(gateway.wsUrl, 'alice');
  const bob = await sipjsPhone(gateway.wsUrl, 'bob');
  phones.push(alice, bob);
  const inviter = new Inviter(alice.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
  void inviter.invite({
    requestDelegate: { onAccept: (r) => (callerToken = r.message.getHeader(CALL_TOKEN)) },
  });
  const invitation = await bob.nextInvitation();
  calleeToken = invitation.request.getHeader(CALL_TOKEN);
  await invitation.accept();
  await reached(inviter, SessionState.Established);
  await inviter.bye();
  callId = inviter.request.callId;
});

afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await gateway.close();
});

const report = {
  direction: 'outgoing',
  durationMs: 12_000,
  setupMs: 140,
  codec: 'audio/opus',
  rttMs: 1.2,
  jitterMs: 0.4,
  lossPercent: 0,
  mos: 4.41,
  reconnects: 1,
  reconnectMs: [620],
  warnings: ['no-input'],
  endReason: 'local',
};

const post = (id: string, body: object, token: string | null | undefined = callerToken) =>
  gateway.app.inject({
    method: 'POST',
    url: `/api/calls/${encodeURIComponent(id)}/quality`,
    payload: body,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

describe('POST /api/calls/{callId}/quality', () => {
  it('takes the report of a call the gateway routed into the Prometheus histograms', async () => {
    expect((await post(callId, report)).statusCode).toBe(202);
    const metrics = (await gateway.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('ringway_call_mos_bucket{le="4.5"} 1');
    expect(metrics).toContain('ringway_call_mos_bucket{le="4.3"} 0');
    expect(metrics).toContain('ringway_call_setup_seconds_bucket{le="0.15"} 1');
    expect(metrics).toContain('ringway_call_reconnect_seconds_bucket{le="1"} 1');
    expect(metrics).toContain('ringway_call_reconnects_total 1');
    expect(metrics).toContain('ringway_call_warnings_total{kind="no-input"} 1');
    expect(metrics).toContain('ringway_call_quality_reports_total{direction="outgoing"} 1');
  });

  it('takes one report per side, each with its own token, then 409', async () => {
    const incoming = { ...report, direction: 'incoming', setupMs: undefined };
    expect((await post(callId, incoming, calleeToken)).statusCode).toBe(202);
    expect((await post(callId, report)).statusCode).toBe(409);
    expect((await post(callId, incoming, calleeToken)).statusCode).toBe(409);
  });

  it('takes a report only with a call token of that call (401 without, or with another call’s)', async () => {
    expect(callerToken).toBeDefined();
    expect(calleeToken).toBeDefined();
    expect(callerToken).not.toEqual(calleeToken);
    const stranger = await post(callId, report, null);
    expect(stranger.statusCode).toBe(401);
    expect((await post(callId, report, 'forged.YWxpY2U')).statusCode).toBe(401);
    expect((await post('another-call', report)).statusCode).toBe(401);
  });

  it('rejects a malformed report with 400 naming the field', async () => {
    const bad = await post(callId, { ...report, mos: 9 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/mos/);
  });
});
