import { createSocket, type RemoteInfo } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { eventually } from '../../../test/support/eventually.js';
import { header, type SipRequest, type SipResponse } from '../src/sip/message.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { createResponse } from '../src/sip/responses.js';
import { serializeSipMessage } from '../src/sip/serializer.js';
import { startGateway, startUpstreamGateway } from './support/gateway.js';
import { freeUdpPort } from './support/loopback-ports.mjs';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../sdp/test/fixtures/${name}`, import.meta.url), 'utf8');

describe('upstream mode', () => {
  it('answers 503 and reports the upstream down when it does not answer', async () => {
    const gateway = await startGateway({ UPSTREAM: `127.0.0.1:${await freeUdpPort()}` });
    const client = await RawSipClient.connect(gateway.wsUrl);
    try {
      client.send(sipRequest('REGISTER', 'sip:ringway.test', { extra: ['Contact: <sip:a@a.invalid>'] }));
      const refused = await client.response(503);
      expect(header(refused, 'Warning')).toMatch(/upstream SIP server does not answer/);
      expect((await gateway.app.inject({ url: '/metrics' })).body).toContain('ringway_upstream_up 0');
    } finally {
      client.close();
      await gateway.close();
    }
  });
});

/** A scripted SIP server on a loopback UDP port: answers keep-alives, hands over everything else. */
async function scriptedUpstream() {
  const socket = createSocket('udp4');
  const requests: Array<{ request: SipRequest; from: RemoteInfo }> = [];
  const waiting: Array<() => void> = [];
  socket.on('message', (data, from) => {
    const message = parseSipMessage(data);
    if (message.kind !== 'request') return;
    if (message.method === 'OPTIONS') {
      socket.send(serializeSipMessage(createResponse(message, 200)), from.port, from.address);
      return;
    }
    requests.push({ request: message, from });
    for (const wake of waiting.splice(0)) wake();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    async next(method: string) {
      for (;;) {
        const at = requests.findIndex((r) => r.request.method === method);
        if (at !== -1) return requests.splice(at, 1)[0] as { request: SipRequest; from: RemoteInfo };
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
    respond(to: { request: SipRequest; from: RemoteInfo }, response: SipResponse) {
      socket.send(serializeSipMessage(response), to.from.port, to.from.address);
    },
    received: requests,
    close: () => socket.close(),
  };
}

describe('upstream mode: the upstream codec policy', () => {
  const chromeOffer = fixture('chromium-audio-offer.sdp');
  const chromeAnswer = fixture('chromium-audio-answer.sdp');

  async function setup(policy: object) {
    const upstream = await scriptedUpstream();
    const gateway = await startUpstreamGateway(upstream.address, {
      CODEC_POLICY_UPSTREAM: JSON.stringify(policy),
    });
    const client = await RawSipClient.connect(gateway.wsUrl);
    client.send(
      sipRequest('INVITE', 'sip:600@ringway.test', {
        extra: ['Contact: <sip:alice@caller.invalid;transport=ws>', 'Content-Type: application/sdp'],
        body: chromeOffer,
      }),
    );
    return {
      upstream,
      client,
      async close() {
        client.close();
        await gateway.close();
        upstream.close();
      },
    };
  }

  it('filters the offer the upstream receives and the answer the browser receives', async () => {
    const { upstream, client, close } = await setup({ allow: ['PCMU'] });
    try {
      const invite = await upstream.next('INVITE');
      expect(invite.request.body).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 13 126$/m);
      expect(invite.request.body).not.toContain('opus');
      // The upstream answers with more than was offered to it (as a careless PBX might).
      const ok = createResponse(invite.request, 200, [{ name: 'Content-Type', value: 'application/sdp' }]);
      upstream.respond(invite, { ...ok, body: chromeAnswer });
      const answer = await client.response(200);
      expect(answer.body).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 13 126$/m);
    } finally {
      await close();
    }
  });

  it('refuses an offer with no codec the upstream allows: 488 with the codecs named, nothing sent upstream', async () => {
    const { upstream, client, close } = await setup({ allow: ['G729'] });
    try {
      const refused = await client.response(488);
      expect(header(refused, 'Warning')).toMatch(
        /^305 ringway "Incompatible media format: offered .*; allowed G729\/8000"$/,
      );
      // A later request from the same client on the same path: once it has reached the upstream,
      // the INVITE would have too, had it been passed on.
      client.send(sipRequest('REGISTER', 'sip:ringway.test', { extra: ['Contact: <sip:a@a.invalid>'] }));
      await upstream.next('REGISTER');
      expect(upstream.received.filter((r) => r.request.method === 'INVITE')).toHaveLength(0);
    } finally {
      await close();
    }
  });
});

describe('upstream mode over UDP: a lost datagram', () => {
  it('is sent again (timer E) for a WebSocket client, which never retransmits, until answered', async () => {
    const upstream = await scriptedUpstream();
    const gateway = await startUpstreamGateway(upstream.address);
    const client = await RawSipClient.connect(gateway.wsUrl);
    try {
      client.send(sipRequest('REGISTER', 'sip:ringway.test', { extra: ['Contact: <sip:a@a.invalid>'] }));
      const lost = await upstream.next('REGISTER');
      const sentAt = Date.now();
      const again = await upstream.next('REGISTER');
      // T1 = 500 ms after the first copy, byte for byte the same transaction.
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(400);
      expect(header(again.request, 'Via')).toBe(header(lost.request, 'Via'));
      upstream.respond(again, createResponse(again.request, 200));
      await client.response(200);
      // Answered: no third copy. The gateway's own timers are the clock: a REGISTER sent after the
      // answer and left unanswered is sent a third time 500 + 1000 ms after its first copy, later
      // than the answered one's third copy was due (1000 ms after its second), so that one would
      // have gone out first.
      const callId = header(lost.request, 'Call-ID');
      client.send(
        sipRequest('REGISTER', 'sip:ringway.test', {
          callId: 'clock',
          extra: ['Contact: <sip:a@a.invalid>'],
        }),
      );
      const copies = () => upstream.received.filter((r) => header(r.request, 'Call-ID') === 'clock').length;
      await eventually(
        copies,
        (n) => n >= 3,
        (n) => `the unanswered REGISTER was sent ${n} times`,
      );
      expect(upstream.received.filter((r) => header(r.request, 'Call-ID') === callId)).toHaveLength(0);
    } finally {
      client.close();
      await gateway.close();
      upstream.close();
    }
  }, 15_000);
});

describe('upstream mode: a REGISTER passed on', () => {
  it('says `Supported: path` once, also when the client already did (RFC 3327 §5)', async () => {
    const upstream = await scriptedUpstream();
    const gateway = await startUpstreamGateway(upstream.address);
    const client = await RawSipClient.connect(gateway.wsUrl);
    try {
      for (const supported of [[], ['Supported: path, outbound'], ['Supported: outbound']]) {
        client.send(
          sipRequest('REGISTER', 'sip:ringway.test', { extra: ['Contact: <sip:a@a.invalid>', ...supported] }),
        );
        const { request } = await upstream.next('REGISTER');
        const tokens = request.headers
          .filter((h) => h.name === 'Supported')
          .flatMap((h) => h.value.split(',').map((t) => t.trim()));
        expect(tokens.filter((t) => t === 'path')).toHaveLength(1);
        expect(request.headers.filter((h) => h.name === 'Path')).toHaveLength(1);
      }
    } finally {
      client.close();
      await gateway.close();
      upstream.close();
    }
  });
});
