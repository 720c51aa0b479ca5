import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inviter, SessionState, UserAgent } from 'sip.js';
import { eventually } from '../../../test/support/eventually.js';
import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { EMBEDDED_CALL_ARROWS } from './support/embedded-call-ladder.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { type Phone, reached, sipjsPhone } from './support/sipjs.js';

const ADMIN_TOKEN = 'operator-token-0123456789';
const operator = { authorization: `Bearer ${ADMIN_TOKEN}` };
let gateway: RunningGateway;
let collector: Socket;
const hep: Buffer[] = [];
const phones: Phone[] = [];
let callId: string;
let callerToken: string | undefined;

beforeAll(async () => {
  // A HEP collector on a loopback port: what Homer or sngrep -L would be.
  collector = createSocket('udp4');
  collector.on('message', (packet) => hep.push(packet));
  await new Promise<void>((resolve) => collector.bind(0, '127.0.0.1', resolve));
  gateway = await startGateway({
    ADMIN_TOKEN,
    HEP_URL: `udp:127.0.0.1:${collector.address().port}`,
    HEP_AGENT_ID: '77',
  });
  const alice = await sipjsPhone(gateway.wsUrl, 'alice');
  const bob = await sipjsPhone(gateway.wsUrl, 'bob');
  phones.push(alice, bob);
  const inviter = new Inviter(alice.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
  void inviter.invite({
    requestDelegate: { onAccept: (r) => (callerToken = r.message.getHeader('Ringway-Call-Token')) },
  });
  const invitation = await bob.nextInvitation();
  invitation.progress();
  await invitation.accept();
  await reached(inviter, SessionState.Established);
  await inviter.bye();
  callId = inviter.request.callId;
});

afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await gateway.close();
  collector.close();
});

const get = (url: string, headers: Record<string, string> = operator) =>
  gateway.app.inject({ method: 'GET', url, headers });

/** The HEP chunks of a packet by type (HEP3 header, then vendor, type, length, value). */
function chunks(packet: Buffer): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  for (let at = 6; at < packet.length; at += packet.readUInt16BE(at + 4))
    found.set(packet.readUInt16BE(at + 2), packet.subarray(at + 6, at + packet.readUInt16BE(at + 4)));
  return found;
}

describe('recent calls for operators', () => {
  it('refuses the list, a ladder, its exports and the page without the operator token (401)', async () => {
    for (const url of [
      '/api/operator/calls',
      `/api/operator/calls/${encodeURIComponent(callId)}`,
      `/api/operator/calls/${encodeURIComponent(callId)}/pcap`,
      '/operator/calls',
    ]) {
      const response = await get(url, {});
      expect(response.statusCode).toBe(401);
      expect(response.body).not.toContain(callId);
      expect(await get(url, { authorization: 'Bearer wrong-token-0123456789' })).toMatchObject({
        statusCode: 401,
      });
    }
    // A browser's Basic credentials with the token as password open the page.
    const basic = `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}`;
    expect((await get('/operator/calls', { authorization: basic })).statusCode).toBe(200);
  });

  it('lists the call with who, outcome and setup time, and its MOS once a party reports', async () => {
    const report = await gateway.app.inject({
      method: 'POST',
      url: `/api/calls/${encodeURIComponent(callId)}/quality`,
      headers: { authorization: `Bearer ${callerToken}` },
      payload: {
        direction: 'outgoing',
        durationMs: 1000,
        lossPercent: 0,
        mos: 4.3,
        reconnects: 0,
        reconnectMs: [],
        warnings: [],
      },
    });
    expect(report.statusCode).toBe(202);
    const { calls } = (await get('/api/operator/calls')).json() as { calls: Array<Record<string, unknown>> };
    const call = calls.find((c) => c.callId === callId);
    expect(call).toMatchObject({
      from: 'alice@ringway.test',
      to: 'bob@ringway.test',
      outcome: 'answered',
      status: 200,
      mos: [4.3],
    });
    expect(call?.setupMs).toEqual(expect.any(Number));
    // REGISTERs are no call.
    expect(calls).toHaveLength(1);
  });

  it("draws the ladder across the caller's flow, the gateway and the callee's flow, secrets masked", async () => {
    type Call = {
      from: string;
      ladder: {
        columns: Array<{ role: string }>;
        arrows: Array<{ label: string; from: number; to: number; text: string }>;
      };
    };
    // SIP.js sends the ACK and the BYE a moment after the call is established.
    const call = await eventually(
      async () => (await get(`/api/operator/calls/${encodeURIComponent(callId)}`)).json() as Call,
      (c) => c.ladder.arrows.filter((a) => a.label === 'BYE').length === 2,
      (c) => `arrows so far: ${c.ladder.arrows.map((a) => a.label).join(', ')}`,
    );
    expect(call.from).toBe('alice@ringway.test');
    expect(call.ladder.columns.map((c) => c.role)).toEqual(['client', 'gateway', 'client']);
    const labels = call.ladder.arrows.map((a) => `${a.from}>${a.to} ${a.label}`);
    for (const expected of [...EMBEDDED_CALL_ARROWS, '2>1 200 OK']) expect(labels).toContain(expected);
    const all = call.ladder.arrows.map((a) => a.text).join('\n');
    expect(all).toContain('Ringway-Call-Token: ***');
    expect(all).not.toContain(callerToken as string);
  });

  it('exports the call as pcap and as text', async () => {
    const pcap = await get(`/api/operator/calls/${encodeURIComponent(callId)}/pcap`);
    expect(pcap.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
    expect(pcap.headers['content-disposition']).toMatch(/^attachment; filename="call-[\w.-]+\.pcap"$/);
    expect(pcap.rawPayload.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(pcap.rawPayload.includes(Buffer.from(`Call-ID: ${callId}`))).toBe(true);
    // (Wireshark's own reading of it is in test/operator-calls-page.test.ts, with tshark.)
    const text = await get(`/api/operator/calls/${encodeURIComponent(callId)}/text`);
    expect(text.body).toContain(`Call-ID: ${callId}`);
    expect(text.body).toMatch(/\[0\] ---> \[1\] {2}WS {2}INVITE/);
  });

  it('answers 404 for a call it does not keep', async () => {
    expect((await get('/api/operator/calls/nobody-called')).statusCode).toBe(404);
  });

  it("sends every SIP message of the WebSocket leg to the HEP collector, with the flows' addresses", async () => {
    const ofCall = await eventually(
      async () => hep.filter((p) => p.includes(Buffer.from(callId))),
      (packets) => packets.length >= 12,
      (packets) => `only ${packets.length} HEP packets of the call`,
    );
    const invite = chunks(ofCall[0] as Buffer);
    expect(invite.get(15)?.toString()).toMatch(/^INVITE sip:bob@ringway\.test SIP\/2\.0/);
    expect(invite.get(1)?.readUInt8()).toBe(2);
    expect(invite.get(2)?.readUInt8()).toBe(6);
    expect(invite.get(11)?.readUInt8()).toBe(1);
    expect(invite.get(12)?.readUInt32BE()).toBe(77);
    expect(invite.get(8)?.readUInt16BE()).toBe(gateway.port);
    expect([...(invite.get(4) ?? [])]).toEqual([127, 0, 0, 1]);
    // REGISTERs go too: Homer shows registrations beside calls.
    expect(hep.some((p) => p.includes(Buffer.from('REGISTER sip:')))).toBe(true);
  });
});

describe('HEP_URL', () => {
  it('stops start-up naming the field for a name, a bad address or another scheme', () => {
    for (const value of [
      'udp:homer.example:9060',
      'udp:300.0.0.1:9060',
      'tcp:127.0.0.1:9060',
      '127.0.0.1:9060',
    ]) {
      expect(() => loadConfig({ HEP_URL: value })).toThrow(ConfigError);
      expect(() => loadConfig({ HEP_URL: value })).toThrow(/capture\.hepUrl \(environment HEP_URL\)/);
    }
    expect(loadConfig({ HEP_URL: 'udp:127.0.0.1:9060' }).capture).toMatchObject({
      hepUrl: 'udp:127.0.0.1:9060',
      hepAgentId: 2001,
    });
  });
});
