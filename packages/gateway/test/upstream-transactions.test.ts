import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { parseNameAddr } from '../src/sip/address.js';
import type { Logger } from '../src/sip/logger.js';
import { header, type SipMessage, type SipRequest } from '../src/sip/message.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { createResponse, cseqMethod } from '../src/sip/responses.js';
import { serializeSipMessage } from '../src/sip/serializer.js';
import { TransactionMemory } from '../src/sip/upstream/transaction-memory.js';
import { parseVia, viaParam } from '../src/sip/via.js';
import { FakeUpstream } from './support/fake-upstream.js';
import { type RunningGateway, startUpstreamGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../sdp/test/fixtures/${name}`, import.meta.url), 'utf8');

/** A codec policy whose work shows: Chromium's answer keeps only PCMU and its comfort noise and DTMF. */
const PCMU_ONLY = JSON.stringify({ allow: ['PCMU'] });
const POLICED_AUDIO = /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 13 126$/m;

function branchOf(message: SipMessage): string | undefined {
  const via = parseVia(header(message, 'Via') ?? '');
  return via && viaParam(via, 'branch');
}

interface Rig {
  upstream: FakeUpstream;
  gateway: RunningGateway;
  client: RawSipClient;
}

const rigs: Rig[] = [];

async function rig(env: Record<string, string> = {}): Promise<Rig> {
  const upstream = await FakeUpstream.start();
  const gateway = await startUpstreamGateway(upstream.address, env);
  const client = await RawSipClient.connect(gateway.wsUrl);
  const made = { upstream, gateway, client };
  rigs.push(made);
  return made;
}

afterEach(async () => {
  for (const { upstream, gateway, client } of rigs.splice(0)) {
    client.close();
    await gateway.close();
    upstream.close();
  }
});

/** The CANCEL of `invite` as its client writes it (RFC 3261 §9.1): same Via, From, To, Call-ID, CSeq number. */
function cancelOf(invite: string): string {
  const request = parseSipMessage(invite) as SipRequest;
  const copy = (name: string) => `${name}: ${header(request, name)}`;
  const cseq = (header(request, 'CSeq') ?? '').split(/\s+/)[0];
  return [
    `CANCEL ${request.uri} SIP/2.0`,
    copy('Via'),
    'Max-Forwards: 70',
    copy('From'),
    copy('To'),
    copy('Call-ID'),
    `CSeq: ${cseq} CANCEL`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Registers the rig's client through the relay; the upstream accepts. Returns the Path the relay wrote. */
async function register(
  { upstream, client }: Rig,
  extra: string[] = ['Contact: <sip:alice@raw.invalid;transport=ws>'],
): Promise<string> {
  client.send(
    sipRequest('REGISTER', 'sip:ringway.test', {
      to: 'sip:alice@ringway.test',
      callId: `reg-${Math.random()}`,
      extra,
    }),
  );
  const register = await upstream.request('REGISTER');
  upstream.respond(register, createResponse(register.message, 200));
  await client.next((m) => m.kind === 'response' && cseqMethod(m) === 'REGISTER' && m.status === 200);
  return header(register.message, 'Path') ?? '';
}

/** A request of the upstream toward the client registered with `path`. */
function fromUpstream(
  method: string,
  path: string,
  id: string,
  options: { maxForwards?: number; body?: string } = {},
): string {
  const body = options.body ?? '';
  return [
    `${method} sip:alice@raw.invalid;transport=ws SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-${id};rport`,
    `Route: ${path}`,
    `Max-Forwards: ${options.maxForwards ?? 69}`,
    `From: <sip:600@ringway.test>;tag=up-${id}`,
    'To: <sip:alice@ringway.test>',
    `Call-ID: ${id}`,
    `CSeq: 1 ${method}`,
    'Contact: <sip:600@127.0.0.1:5060>',
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** A client's INVITE and its CANCEL as the upstream first saw them (the CANCEL's datagram unanswered). */
async function cancelledInvite() {
  const { upstream, client } = await rig();
  const invite = sipRequest('INVITE', 'sip:600@ringway.test', {
    extra: ['Contact: <sip:alice@caller.invalid;transport=ws>'],
  });
  client.send(invite);
  const sentInvite = await upstream.request('INVITE');
  client.send(cancelOf(invite));
  const lost = await upstream.request('CANCEL');
  return { upstream, client, sentInvite, lost };
}

describe('upstream relay over UDP: a CANCEL is a transaction of its own', () => {
  it('sends a CANCEL again when its first datagram is lost, and its 200 leaves the INVITE retransmitting', async () => {
    const { upstream, client, sentInvite, lost } = await cancelledInvite();
    expect(branchOf(lost.message)).toBe(branchOf(sentInvite.message));
    // Nothing answered the INVITE: its first retransmission (T1) comes, and so does the CANCEL's.
    const again = await upstream.request('CANCEL');
    expect(header(again.message, 'Via')).toBe(header(lost.message, 'Via'));
    await upstream.request('INVITE');

    upstream.respond(again, createResponse(again.message, 200));
    await client.next((m) => m.kind === 'response' && cseqMethod(m) === 'CANCEL' && m.status === 200);
    // The CANCEL's 200 is not the INVITE's answer: the INVITE is still sent until it has one.
    upstream.discard('INVITE');
    const stillSent = await upstream.request('INVITE');
    expect(header(stillSent.message, 'Via')).toBe(header(sentInvite.message, 'Via'));

    upstream.respond(stillSent, createResponse(stillSent.message, 487));
    await client.next((m) => m.kind === 'response' && m.status === 487);
  });

  it('keeps sending a CANCEL after its INVITE is answered with a provisional', async () => {
    const { upstream, client, sentInvite, lost } = await cancelledInvite();
    upstream.respond(sentInvite, createResponse(sentInvite.message, 180));
    await client.response(180);

    const again = await upstream.request('CANCEL');
    expect(header(again.message, 'Via')).toBe(header(lost.message, 'Via'));
    upstream.respond(again, createResponse(again.message, 200));
    upstream.respond(sentInvite, createResponse(sentInvite.message, 487));
    await client.next((m) => m.kind === 'response' && m.status === 487);
  });
});

describe('upstream relay: offers kept for the codec policy', () => {
  it('polices the answer to an offer that 2,000 newer offers followed', async () => {
    const setup = await rig({ CODEC_POLICY_UPSTREAM: PCMU_ONLY });
    const { upstream, client } = setup;
    const path = await register(setup);
    const plainOffer = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 0',
      'a=rtpmap:0 PCMU/8000',
      '',
    ].join('\r\n');

    upstream.send(fromUpstream('INVITE', path, 'first-call', { body: fixture('chromium-audio-offer.sdp') }));
    const first = await client.next((m) => m.kind === 'request' && header(m, 'Call-ID') === 'first-call');
    // In batches that the client has received before the next, so that no datagram overflows a socket buffer.
    const newer = 2_000;
    for (let sent = 0; sent < newer; ) {
      const batch = Math.min(100, newer - sent);
      for (let i = 0; i < batch; i++)
        upstream.send(fromUpstream('INVITE', path, `newer-${sent + i}`, { body: plainOffer }));
      sent += batch;
      await client.next((m) => m.kind === 'request' && header(m, 'Call-ID') === `newer-${sent - 1}`, 10_000);
    }

    // The browser answers the first call with all it can do; the upstream must get only PCMU.
    const answer = {
      ...createResponse(first, 200, [
        { name: 'Contact', value: '<sip:alice@raw.invalid;transport=ws>' },
        { name: 'Content-Type', value: 'application/sdp' },
      ]),
      body: fixture('chromium-audio-answer.sdp'),
    };
    client.send(serializeSipMessage(answer));
    const relayed = await upstream.response((r) => header(r, 'Call-ID') === 'first-call');
    expect(relayed.status).toBe(200);
    expect(relayed.body).toMatch(POLICED_AUDIO);
  }, 30_000);
});

describe('upstream relay: REGISTERs kept until answered', () => {
  it('learns the Contact of a REGISTER answered after 2,000 newer REGISTERs', async () => {
    // The client sends as fast as it can: no rate limit in the way.
    const { upstream, client } = await rig({
      RATE_MESSAGES_PER_SECOND: '100000',
      RATE_MESSAGE_BURST: '100000',
    });
    const contact = 'sip:alice-first@raw.invalid;transport=ws';
    client.send(
      sipRequest('REGISTER', 'sip:ringway.test', {
        to: 'sip:alice@ringway.test',
        callId: 'first-register',
        extra: [`Contact: <${contact}>`],
      }),
    );
    const first = await upstream.request('REGISTER', (m) => header(m, 'Call-ID') === 'first-register');
    // Queries of the bindings (no Contact), in batches the upstream has heard before the next. Each
    // is answered only with a 100 Trying: still in flight, and not sent again (timer E).
    const newer = 2_000;
    for (let sent = 0; sent < newer; ) {
      const batch = Math.min(100, newer - sent);
      const callIds = Array.from({ length: batch }, (_, i) => `newer-${sent + i}`);
      for (const callId of callIds)
        client.send(sipRequest('REGISTER', 'sip:ringway.test', { to: 'sip:alice@ringway.test', callId }));
      for (const callId of callIds) {
        const heard = await upstream.request('REGISTER', (m) => header(m, 'Call-ID') === callId, 10_000);
        upstream.respond(heard, createResponse(heard.message, 100));
      }
      sent += batch;
    }

    upstream.respond(first, createResponse(first.message, 200));
    await client.next((m) => m.kind === 'response' && header(m, 'Call-ID') === 'first-register');
    // The Contact was learned: a request for it with no Route of ours still finds the client.
    upstream.send(
      [
        `MESSAGE ${contact} SIP/2.0`,
        'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-to-contact;rport',
        'Max-Forwards: 69',
        'From: <sip:600@ringway.test>;tag=up',
        'To: <sip:alice@ringway.test>;tag=alice',
        'Call-ID: to-contact',
        'CSeq: 2 MESSAGE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    await client.next((m) => m.kind === 'request' && header(m, 'Call-ID') === 'to-contact');
  }, 30_000);
});

describe('upstream relay: a REGISTER and outbound (RFC 5626)', () => {
  const instance = '+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>"';
  const cases: Array<[string, string[], boolean]> = [
    ['nothing of outbound', ['Contact: <sip:alice@raw.invalid;transport=ws>'], false],
    [
      'Supported: outbound, +sip.instance and reg-id',
      ['Supported: path, outbound', `Contact: <sip:alice@raw.invalid;transport=ws>;${instance};reg-id=1`],
      true,
    ],
    [
      'Supported: outbound without +sip.instance',
      ['Supported: outbound', 'Contact: <sip:alice@raw.invalid;transport=ws>;reg-id=1'],
      false,
    ],
    [
      '+sip.instance and reg-id without Supported: outbound',
      [`Contact: <sip:alice@raw.invalid;transport=ws>;${instance};reg-id=1`],
      false,
    ],
  ];

  it.each(cases)(
    'marks the Path with ob only when the client asks for outbound: %s',
    async (_, extra, ob) => {
      const setup = await rig();
      const path = parseNameAddr(await register(setup, extra));
      expect(path?.uri.params.lr).toBeDefined();
      expect(path?.uri.params.ob !== undefined).toBe(ob);
    },
  );
});

describe('upstream relay: Max-Forwards toward a client (RFC 3261 §16.6 step 3)', () => {
  it('passes a request of the upstream on with one hop less, and answers 483 to one with none left', async () => {
    const setup = await rig();
    const { upstream, client } = setup;
    const path = await register(setup);

    upstream.send(fromUpstream('MESSAGE', path, 'ten-hops', { maxForwards: 10 }));
    const passed = await client.next((m) => header(m, 'Call-ID') === 'ten-hops');
    expect(header(passed, 'Max-Forwards')).toBe('9');

    upstream.send(fromUpstream('MESSAGE', path, 'no-hops', { maxForwards: 0 }));
    const refused = await upstream.response((r) => header(r, 'Call-ID') === 'no-hops');
    expect(refused.status).toBe(483);
    // A later request reaches the client, and the one with no hops left never did.
    upstream.send(fromUpstream('MESSAGE', path, 'after', { maxForwards: 1 }));
    expect(header(await client.next((m) => header(m, 'Call-ID') === 'after'), 'Max-Forwards')).toBe('0');
    expect(client.received.some((m) => header(m, 'Call-ID') === 'no-hops')).toBe(false);
  });

  it('forwards a client request without Max-Forwards with 69 (RFC 3261 §16.6 step 3)', async () => {
    const { upstream, client } = await rig();
    client.send(
      sipRequest('MESSAGE', 'sip:600@ringway.test', { omit: ['Max-Forwards'], callId: 'no-max-forwards' }),
    );
    const { message } = await upstream.request('MESSAGE', (m) => header(m, 'Call-ID') === 'no-max-forwards');
    expect(header(message, 'Max-Forwards')).toBe('69');
  });
});

describe('TransactionMemory', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  const logger = () => {
    const warnings: unknown[] = [];
    const log = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;
    return { log, warnings };
  };

  it('forgets an entry once its lifetime has passed, and not before, however many came after', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { log, warnings } = logger();
    const memory = new TransactionMemory<string>({ name: 'offers', maxEntries: 10_000, log });
    memory.set('old', 'offer', 32_000);
    for (let i = 0; i < 5_000; i++) memory.set(`newer-${i}`, 'offer', 32_000);
    jest.advanceTimersByTime(31_999);
    expect(memory.get('old')).toBe('offer');
    jest.advanceTimersByTime(1);
    expect(memory.get('old')).toBeUndefined();
    expect(warnings).toHaveLength(0);
  });

  it('keeps an extended entry longer, and sweeps the expired when something new is kept', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const memory = new TransactionMemory<string>({ name: 'offers', maxEntries: 10_000, log: logger().log });
    memory.set('ringing', 'offer', 1_000);
    memory.set('short', 'offer', 1_000);
    jest.advanceTimersByTime(900);
    memory.extend('ringing', 180_000);
    jest.advanceTimersByTime(600);
    memory.set('new', 'offer', 1_000);
    expect(memory.size).toBe(2);
    expect(memory.get('ringing')).toBe('offer');
    jest.advanceTimersByTime(180_000 - 600);
    expect(memory.get('ringing')).toBeUndefined();
  });

  it('drops the oldest beyond its bound, and says so in the log', () => {
    const { log, warnings } = logger();
    const memory = new TransactionMemory<string>({ name: 'offers', maxEntries: 3, log });
    for (const key of ['a', 'b', 'c', 'd', 'e']) memory.set(key, key, 32_000);
    expect(memory.size).toBe(3);
    expect(memory.get('a')).toBeUndefined();
    expect(memory.get('c')).toBe('c');
    expect(warnings).toHaveLength(1);
  });
});
