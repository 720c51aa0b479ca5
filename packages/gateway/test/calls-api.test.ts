import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { establishedCall, type Phone, sipjsPhone } from './support/sipjs.js';

let gateway: RunningGateway;
const phones: Phone[] = [];
let callId: string;

beforeAll(async () => {
  gateway = await startGateway();
  const alice = await sipjsPhone(gateway.wsUrl, 'alice');
  const bob = await sipjsPhone(gateway.wsUrl, 'bob');
  phones.push(alice, bob);
  const { inviter } = await establishedCall(alice, bob, 'sip:bob@ringway.test');
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

const post = (id: string, body: object) =>
  gateway.app.inject({ method: 'POST', url: `/api/calls/${encodeURIComponent(id)}/quality`, payload: body });

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

  it('takes one report per side, then 409; refuses calls it did not route (404) and bad reports (400)', async () => {
    expect((await post(callId, { ...report, direction: 'incoming', setupMs: undefined })).statusCode).toBe(
      202,
    );
    expect((await post(callId, report)).statusCode).toBe(409);
    expect((await post('not-a-call-we-saw', report)).statusCode).toBe(404);
    const bad = await post(callId, { ...report, mos: 9 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/mos/);
  });
});
