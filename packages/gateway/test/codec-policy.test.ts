import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { header, type SipRequest } from '../src/sip/message.js';
import { createResponse } from '../src/sip/responses.js';
import { serializeSipMessage } from '../src/sip/serializer.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../sdp/test/fixtures/${name}`, import.meta.url), 'utf8');
const chromeOffer = fixture('chromium-audio-offer.sdp');
const chromeAnswer = fixture('chromium-audio-answer.sdp');

const running: RunningGateway[] = [];
const clients: RawSipClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(running.splice(0).map((g) => g.close()));
});

/** A gateway with `policy` on the browser route, bob registered, and alice's INVITE with `offer` sent. */
async function callSetup(policy: object, offer = chromeOffer, env: Record<string, string> = {}) {
  const gateway = await startGateway({ CODEC_POLICY_BROWSER: JSON.stringify(policy), ...env });
  running.push(gateway);
  const callee = await RawSipClient.connect(gateway.wsUrl);
  const caller = await RawSipClient.connect(gateway.wsUrl);
  clients.push(callee, caller);
  callee.send(
    sipRequest('REGISTER', 'sip:ringway.test', {
      from: 'sip:bob@ringway.test',
      to: 'sip:bob@ringway.test',
      extra: ['Contact: <sip:bob@callee.invalid;transport=ws>'],
    }),
  );
  await callee.response(200);
  caller.send(
    sipRequest('INVITE', 'sip:bob@ringway.test', {
      extra: ['Contact: <sip:alice@caller.invalid;transport=ws>', 'Content-Type: application/sdp'],
      body: offer,
    }),
  );
  return { gateway, caller, callee };
}

describe('codec policy in flight', () => {
  it('filters the offer the callee receives and the answer the caller receives, and counts the codec', async () => {
    const { gateway, caller, callee } = await callSetup({ allow: ['PCMU'] });
    const invite = (await callee.next((m) => m.kind === 'request' && m.method === 'INVITE')) as SipRequest;
    expect(invite.body).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 13 126$/m);
    expect(invite.body).not.toContain('opus');
    const ok = createResponse(invite, 200, [
      { name: 'Contact', value: '<sip:bob@callee.invalid;transport=ws>' },
      { name: 'Content-Type', value: 'application/sdp' },
    ]);
    callee.send(serializeSipMessage({ ...ok, body: chromeAnswer }));
    const answer = await caller.response(200);
    expect(answer.body).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 13 126$/m);
    const metrics = (await gateway.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('ringway_call_codecs_total{codec="PCMU/8000"} 1');
  });

  it('refuses an offer with no allowed codec with 488 and a Warning naming the codecs, before the callee rings', async () => {
    const { caller, callee } = await callSetup({ allow: ['G729'] });
    const refused = await caller.response(488);
    expect(header(refused, 'Warning')).toBe(
      '305 ringway "Incompatible media format: offered opus/48000/2 G722/8000 PCMU/8000 PCMA/8000; allowed G729/8000"',
    );
    await expect(callee.next((m) => m.kind === 'request' && m.method === 'INVITE', 300)).rejects.toThrow();
  });

  it('holds a 2xx that comes after its branch ended (Timer C) to the offer, not as a late offer', async () => {
    const sdp = (formats: string) =>
      `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP ${formats}\r\n`;
    const { caller, callee } = await callSetup({ allow: ['PCMU', 'PCMA'] }, sdp('0'), {
      INVITE_TIMEOUT_MS: '300',
      TRANSACTION_TIMEOUT_MS: '300',
    });
    const invite = (await callee.next((m) => m.kind === 'request' && m.method === 'INVITE')) as SipRequest;
    // Bob lets it ring past Timer C and answers nothing to the CANCEL: the caller is told 408.
    callee.send(serializeSipMessage(createResponse(invite, 180, [], undefined, 'bob-tag')));
    await callee.next((m) => m.kind === 'request' && m.method === 'CANCEL');
    await caller.response(408, 5000);
    // Then bob picks up, answering PCMA too, which the policy allows but the offer did not carry.
    const ok = createResponse(
      invite,
      200,
      [
        { name: 'Contact', value: '<sip:bob@callee.invalid;transport=ws>' },
        { name: 'Content-Type', value: 'application/sdp' },
      ],
      undefined,
      'bob-tag',
    );
    callee.send(serializeSipMessage({ ...ok, body: sdp('8 0') }));
    const answer = await caller.response(200);
    expect(answer.body).toMatch(/^m=audio 4000 RTP\/AVP 0$/m);
  });
});
