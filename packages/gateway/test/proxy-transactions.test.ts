import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Flow } from '../src/sip/flow.js';
import { FlowTable } from '../src/sip/flow-table.js';
import { header, headers, type SipMessage, type SipRequest } from '../src/sip/message.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { Routing } from '../src/sip/proxy/routing.js';
import type { LocationService } from '../src/sip/registrar/location-service.js';
import { cseqMethod } from '../src/sip/responses.js';
import { metricLines, type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';
import { answer, isRequest, registerAs } from './support/sip-callee.js';
import { serverCertificate } from './support/test-certificates.js';

// Issue 23: the proxy's transactions by RFC 3261 §16 and §17, its routing by §16.4 and §16.6,
// and the Event id of RFC 6665 §8.2.1. Raw SIP over WebSocket against a real gateway in
// anonymous loopback mode, so that each test sends exactly the messages it means.

const gateways: RunningGateway[] = [];
const clients: RawSipClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function gatewayWith(env: Record<string, string> = {}): Promise<RunningGateway> {
  const gateway = await startGateway(env);
  gateways.push(gateway);
  return gateway;
}

async function client(url: string, tls: { ca?: string } = {}): Promise<RawSipClient> {
  const c = await RawSipClient.connect(url, ['sip'], {}, tls);
  clients.push(c);
  return c;
}

/** A client registered as `user` (anonymous mode: no challenge) at `<sip:user@user.invalid;transport=ws>`. */
async function phone(url: string, user: string, tls: { ca?: string } = {}): Promise<RawSipClient> {
  return registerAs(await client(url, tls), user);
}

const finalTo = (method: string) => (m: SipMessage) =>
  m.kind === 'response' && m.status >= 200 && cseqMethod(m) === method;

/** A call from `caller` to bob that bob's `callee` lets ring (180); resolves with bob's INVITE. */
async function ringing(caller: RawSipClient, callee: RawSipClient): Promise<SipRequest> {
  caller.send(
    sipRequest('INVITE', 'sip:bob@ringway.test', {
      extra: ['Contact: <sip:alice@alice.invalid;transport=ws>'],
    }),
  );
  const invite = (await callee.next(isRequest('INVITE'))) as SipRequest;
  answer(callee, invite, 180, { toTag: 'bob-tag' });
  await caller.response(180);
  return invite;
}

/** What the dialog event package says of `user` now: one fetch (RFC 6665 §4.4.3), its NOTIFY's body. */
async function dialogsOf(watcher: RawSipClient, user: string): Promise<string> {
  const callId = `fetch-${user}-${Math.random().toString(36).slice(2)}`;
  watcher.send(
    sipRequest('SUBSCRIBE', `sip:${user}@ringway.test`, {
      from: 'sip:watcher@ringway.test',
      callId,
      extra: ['Contact: <sip:watcher@watcher.invalid;transport=ws>', 'Event: dialog', 'Expires: 0'],
    }),
  );
  const notify = await watcher.next((m) => isRequest('NOTIFY')(m) && header(m, 'Call-ID') === callId);
  return notify.body;
}

/** The proxy transactions the gateway holds, in progress or lingering (its gauge). */
async function transactionsIn(gateway: RunningGateway): Promise<number> {
  const [gauge] = await metricLines(gateway, 'ringway_proxy_transactions');
  return Number(gauge?.split(' ')[1]);
}

/**
 * The caller's ACK of `final`, the answer to `invite` (as the callee got it). A 2xx's goes end to
 * end on the route set; a non-2xx's is the INVITE transaction's own: its Via (RFC 3261 §17.1.1.3).
 */
function ackOf(final: SipMessage, invite: SipRequest): string {
  const toTag = /;tag=([^;]+)/.exec(header(final, 'To') ?? '')?.[1];
  const success = final.kind === 'response' && final.status < 300;
  const ack = sipRequest('ACK', 'sip:bob@bob.invalid;transport=ws', {
    callId: header(final, 'Call-ID'),
    to: 'sip:bob@ringway.test',
    toTag,
    extra: success ? headers(invite, 'Record-Route').map((route) => `Route: ${route}`) : [],
  }).replace(/^From: .*$/m, `From: ${header(final, 'From')}`);
  return success ? ack : ack.replace(/^Via: .*$/m, `Via: ${header(final, 'Via')}`);
}

/** Resolves once the gateway has handled everything `c` sent before: an OPTIONS it answers itself. */
async function handledSoFar(c: RawSipClient): Promise<void> {
  const callId = `witness-${Math.random().toString(36).slice(2)}`;
  c.send(sipRequest('OPTIONS', 'sip:ringway.test', { callId }));
  await c.next((m) => m.kind === 'response' && header(m, 'Call-ID') === callId);
}

describe('Timer C (RFC 3261 §16.8)', () => {
  it('passes on the 2xx a callee sends as Timer C cancels it, with no 408 before it', async () => {
    const gateway = await gatewayWith({ INVITE_TIMEOUT_MS: '300' });
    const callee = await phone(gateway.wsUrl, 'bob');
    const caller = await client(gateway.wsUrl);
    const invite = await ringing(caller, callee);
    // The race made certain: bob picks up in the instant the proxy's CANCEL reaches him.
    const cancel = (await callee.next(isRequest('CANCEL'))) as SipRequest;
    answer(callee, invite, 200, { toTag: 'bob-tag', extra: ['Contact: <sip:bob@bob.invalid;transport=ws>'] });
    answer(callee, cancel, 200);
    const final = await caller.next(finalTo('INVITE'));
    expect(final.kind === 'response' && final.status).toBe(200);
    expect(header(final, 'To')).toContain('tag=bob-tag');
  });

  it('ACKs the 487 that answers its CANCEL, and tells the caller 408', async () => {
    const gateway = await gatewayWith({ INVITE_TIMEOUT_MS: '300' });
    const callee = await phone(gateway.wsUrl, 'bob');
    const caller = await client(gateway.wsUrl);
    const invite = await ringing(caller, callee);
    const cancel = (await callee.next(isRequest('CANCEL'))) as SipRequest;
    answer(callee, cancel, 200);
    answer(callee, invite, 487, { toTag: 'bob-tag' });
    const ack = await callee.next(isRequest('ACK'));
    expect(header(ack, 'CSeq')).toBe('1 ACK');
    expect(header(ack, 'To')).toContain('tag=bob-tag');
    expect(header(ack, 'Via')).toBe(header(invite, 'Via'));
    const final = await caller.next(finalTo('INVITE'));
    expect(final.kind === 'response' && final.status).toBe(408);
  });
  it('keeps a branch Timer C cancelled open for its answer, and ends it with 408 when none comes (RFC 3261 §9.1)', async () => {
    const gateway = await gatewayWith({ INVITE_TIMEOUT_MS: '300', TRANSACTION_TIMEOUT_MS: '300' });
    const callee = await phone(gateway.wsUrl, 'bob');
    const caller = await client(gateway.wsUrl);
    const invite = await ringing(caller, callee);
    await callee.next(isRequest('CANCEL'));
    // Still open: what bob says now reaches the caller, whose call has no final answer yet.
    answer(callee, invite, 183, { toTag: 'bob-tag' });
    await caller.response(183);
    const final = await caller.next(finalTo('INVITE'));
    expect(final.kind === 'response' && final.status).toBe(408);
  });

  it('takes a response only from the connection its request went out on (RFC 3261 §18.1.2)', async () => {
    const gateway = await gatewayWith();
    const callee = await phone(gateway.wsUrl, 'bob');
    const stranger = await client(gateway.wsUrl);
    const caller = await client(gateway.wsUrl);
    const invite = await ringing(caller, callee);
    // Somebody who learnt the branch answers in bob's place; bob then refuses the call himself.
    answer(stranger, invite, 200, { toTag: 'not-bob' });
    await handledSoFar(stranger);
    answer(callee, invite, 486, { toTag: 'bob-tag' });
    const final = await caller.next(finalTo('INVITE'));
    expect(final.kind === 'response' && final.status).toBe(486);
  });
});

describe('server transactions (RFC 3261 §17.2.3)', () => {
  it('answers two clients that send the same branch and sent-by, each on its own connection', async () => {
    const gateway = await gatewayWith();
    const callee = await phone(gateway.wsUrl, 'bob');
    const [first, second] = [await client(gateway.wsUrl), await client(gateway.wsUrl)];
    const message = (from: string) =>
      sipRequest('MESSAGE', 'sip:bob@ringway.test', { from }).replace(
        /^Via: .*$/m,
        'Via: SIP/2.0/WS raw.invalid;branch=z9hG4bK1',
      );
    first.send(message('sip:alice@ringway.test'));
    const one = (await callee.next(isRequest('MESSAGE'))) as SipRequest;
    // The first is still in progress (bob has not answered) when the second comes.
    second.send(message('sip:carol@ringway.test'));
    const two = (await callee.next(isRequest('MESSAGE'))) as SipRequest;
    answer(callee, one, 200);
    answer(callee, two, 200);
    expect(header(await first.next(finalTo('MESSAGE')), 'From')).toContain('alice');
    expect(header(await second.next(finalTo('MESSAGE')), 'From')).toContain('carol');
  });

  it('answers a retransmitted INVITE with its final response and tells no ringing of it', async () => {
    const gateway = await gatewayWith();
    const callee = await phone(gateway.wsUrl, 'bob');
    const caller = await client(gateway.wsUrl);
    const watcher = await client(gateway.wsUrl);
    const text = sipRequest('INVITE', 'sip:bob@ringway.test', {
      extra: ['Contact: <sip:alice@alice.invalid;transport=ws>'],
    });
    caller.send(text);
    const invite = (await callee.next(isRequest('INVITE'))) as SipRequest;
    expect(await dialogsOf(watcher, 'bob')).toContain('<state>early</state>');
    answer(callee, invite, 486, { toTag: 'bob-tag' });
    await caller.response(486);
    expect(await dialogsOf(watcher, 'bob')).not.toContain('<dialog ');

    caller.send(text);
    await handledSoFar(caller);
    expect(await dialogsOf(watcher, 'bob')).not.toContain('<dialog ');
    // RFC 3261 §17.2.1: the retransmission gets the final response again; the callee nothing.
    const again = await caller.next(finalTo('INVITE'));
    expect(again.kind === 'response' && again.status).toBe(486);
    await handledSoFar(callee);
    expect(callee.received.filter(isRequest('INVITE'))).toEqual([]);
  });

  it('passes on the callee’s retransmitted 2xx as it passed on the first, token and all, until the caller’s ACK (RFC 3261 §13.3.1.4, RFC 6026 §7.1)', async () => {
    const gateway = await gatewayWith();
    const callee = await phone(gateway.wsUrl, 'bob');
    const caller = await client(gateway.wsUrl);
    const invite = await ringing(caller, callee);
    const ok = { toTag: 'bob-tag', extra: ['Contact: <sip:bob@bob.invalid;transport=ws>'] };
    answer(callee, invite, 200, ok);
    const first = await caller.next(finalTo('INVITE'));
    expect(header(first, 'Ringway-Call-Token')).toBeDefined();
    // The transaction is final now, lingering: the same 2xx again, as a UAS resends it until its ACK.
    answer(callee, invite, 200, ok);
    const again = await caller.next(finalTo('INVITE'));
    expect(again).toEqual(first);
    expect(await transactionsIn(gateway)).toBe(1);
    // The caller's ACK passes: on a WebSocket nothing else can come for the transaction, which
    // is forgotten. A copy of the 2xx that crossed the ACK goes no further: the caller has it.
    caller.send(ackOf(first, invite));
    await callee.next(isRequest('ACK'));
    expect(await transactionsIn(gateway)).toBe(0);
    answer(callee, invite, 200, ok);
    await handledSoFar(callee);
    await handledSoFar(caller);
    expect(caller.received.filter(finalTo('INVITE'))).toEqual([]);
  });

  it('forgets an INVITE transaction when the caller ACKs its non-2xx final, and keeps it until then (RFC 3261 §17.2.1, Timer I)', async () => {
    const gateway = await gatewayWith();
    const callee = await phone(gateway.wsUrl, 'bob');
    const caller = await client(gateway.wsUrl);
    const invite = await ringing(caller, callee);
    answer(callee, invite, 486, { toTag: 'bob-tag' });
    const busy = await caller.next(finalTo('INVITE'));
    expect(busy.kind === 'response' && busy.status).toBe(486);
    // Absorbing the ACK to come is what it lingers for.
    expect(await transactionsIn(gateway)).toBe(1);
    caller.send(ackOf(busy, invite));
    await handledSoFar(caller);
    expect(await transactionsIn(gateway)).toBe(0);
    // The hop's ACK stays ours: bob only had the proxy's own ACK of his 486.
    await handledSoFar(callee);
    expect(callee.received.filter(isRequest('ACK'))).toHaveLength(1);
  });

  it('keeps a forked call’s transaction past the ACK while a branch has not answered, and passes on that branch’s late 2xx (RFC 6026 §7.1)', async () => {
    const gateway = await gatewayWith();
    const desk = await phone(gateway.wsUrl, 'bob');
    const mobile = await client(gateway.wsUrl);
    mobile.send(
      sipRequest('REGISTER', 'sip:ringway.test', {
        from: 'sip:bob@ringway.test',
        to: 'sip:bob@ringway.test',
        extra: ['Contact: <sip:bob@bob-mobile.invalid;transport=ws>'],
      }),
    );
    await mobile.response(200);
    const caller = await client(gateway.wsUrl);
    caller.send(
      sipRequest('INVITE', 'sip:bob@ringway.test', {
        extra: ['Contact: <sip:alice@alice.invalid;transport=ws>'],
      }),
    );
    const [atDesk, onMobile] = [
      (await desk.next(isRequest('INVITE'))) as SipRequest,
      (await mobile.next(isRequest('INVITE'))) as SipRequest,
    ];
    answer(mobile, onMobile, 180, { toTag: 'mobile-tag' });
    answer(desk, atDesk, 200, { toTag: 'desk-tag', extra: ['Contact: <sip:bob@bob.invalid;transport=ws>'] });
    const fromDesk = await caller.next(finalTo('INVITE'));
    await mobile.next(isRequest('CANCEL'));
    caller.send(ackOf(fromDesk, atDesk));
    await desk.next(isRequest('ACK'));
    // The mobile answered as the CANCEL crossed its 200: the caller gets that 2xx too.
    expect(await transactionsIn(gateway)).toBe(1);
    answer(mobile, onMobile, 200, {
      toTag: 'mobile-tag',
      extra: ['Contact: <sip:bob@bob-mobile.invalid;transport=ws>'],
    });
    const fromMobile = await caller.next(
      (m) => finalTo('INVITE')(m) && (header(m, 'To') ?? '').includes('mobile-tag'),
    );
    expect(fromMobile.kind === 'response' && fromMobile.status).toBe(200);
    expect(await transactionsIn(gateway)).toBe(0);
  });

  it('tells no ringing of an INVITE refused with 503 for too many requests in progress', async () => {
    const gateway = await gatewayWith();
    const dave = await phone(gateway.wsUrl, 'dave');
    const carol = await phone(gateway.wsUrl, 'carol');
    const caller = await client(gateway.wsUrl);
    const watcher = await client(gateway.wsUrl);
    // MAX_PENDING_PER_FLOW (proxy-transactions.ts) INVITEs that dave lets wait.
    const pending = 100;
    for (let i = 0; i < pending; i++) caller.send(sipRequest('INVITE', 'sip:dave@ringway.test'));
    for (let i = 0; i < pending; i++) await dave.next(isRequest('INVITE'));
    caller.send(sipRequest('INVITE', 'sip:carol@ringway.test'));
    const refused = await caller.response(503);
    expect(header(refused, 'Warning')).toMatch(/too many requests in progress/);
    expect(await dialogsOf(watcher, 'carol')).not.toContain('<dialog ');
    await handledSoFar(carol);
    expect(carol.received.filter(isRequest('INVITE'))).toEqual([]);
  });
});

describe('routing (RFC 3261 §16.4, §16.6)', () => {
  it('takes the Request-URI back from the last Route when a strict router put our Record-Route there', async () => {
    const gateway = await gatewayWith();
    const callee = await phone(gateway.wsUrl, 'bob');
    const caller = await client(gateway.wsUrl);
    caller.send(
      sipRequest('MESSAGE', `sip:127.0.0.1:${gateway.port};transport=ws;lr`, {
        to: 'sip:bob@ringway.test',
        toTag: 'bob-tag',
        extra: ['Route: <sip:bob@bob.invalid;transport=ws>'],
      }),
    );
    const message = (await callee.next(isRequest('MESSAGE'))) as SipRequest;
    expect(message.uri).toBe('sip:bob@bob.invalid;transport=ws');
    expect(headers(message, 'Route')).toEqual([]);
    answer(callee, message, 200);
    await caller.next(finalTo('MESSAGE'));
  });

  it('record-routes a call between wss clients with transport=wss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringway-proxy-'));
    const pem = await serverCertificate(['127.0.0.1']);
    writeFileSync(join(dir, 'cert.pem'), pem.cert);
    writeFileSync(join(dir, 'key.pem'), pem.key);
    const gateway = await gatewayWith({
      TLS_CERT_FILE: join(dir, 'cert.pem'),
      TLS_KEY_FILE: join(dir, 'key.pem'),
    });
    const url = `wss://127.0.0.1:${gateway.port}/sip`;
    const callee = await phone(url, 'bob', { ca: pem.cert });
    const caller = await client(url, { ca: pem.cert });
    caller.send(sipRequest('INVITE', 'sip:bob@ringway.test'));
    const invite = await callee.next(isRequest('INVITE'));
    expect(headers(invite, 'Record-Route')).toEqual([`<sip:127.0.0.1:${gateway.port};transport=wss;lr>`]);
    expect(header(invite, 'Via')).toMatch(/^SIP\/2\.0\/WSS /);
  });

  it('record-routes twice, one for each side, between a ws and a wss connection (RFC 5658 §4)', () => {
    const routing = new Routing({
      flows: new FlowTable(),
      location: {} as LocationService,
      identity: { sentBy: () => 'gw.example:443', isOwnRoute: () => false, isOurDomain: () => false },
      knownUsers: new Set(),
      dialogTokens: undefined,
    });
    const flow = (transport: string) => ({ transport }) as Flow;
    const invite = parseSipMessage(sipRequest('INVITE', 'sip:bob@ringway.test')) as SipRequest;
    // Prepended in order, the callee's route set starts with the WSS one, the caller's (reversed) with WS.
    expect(routing.recordRoutes(invite, flow('WS'), flow('WSS'))).toEqual([
      '<sip:gw.example:443;transport=wss;lr>',
      '<sip:gw.example:443;transport=ws;lr>',
    ]);
    expect(routing.recordRoutes(invite, flow('WSS'), flow('WSS'))).toEqual([
      '<sip:gw.example:443;transport=wss;lr>',
    ]);
  });
});

describe('the notifier (RFC 6665 §8.2.1)', () => {
  it('echoes the id of the SUBSCRIBE’s Event in every NOTIFY', async () => {
    const gateway = await gatewayWith();
    const watcher = await client(gateway.wsUrl);
    const subscribe = (event: string, callId: string) =>
      sipRequest('SUBSCRIBE', 'sip:bob@ringway.test', {
        from: 'sip:watcher@ringway.test',
        callId,
        extra: ['Contact: <sip:watcher@watcher.invalid;transport=ws>', `Event: ${event}`],
      });
    const notifyOf = (callId: string) =>
      watcher.next((m) => isRequest('NOTIFY')(m) && header(m, 'Call-ID') === callId);
    watcher.send(subscribe('dialog;id=42', 'with-id'));
    expect(header(await notifyOf('with-id'), 'Event')).toBe('dialog;id=42');
    watcher.send(subscribe('presence', 'without-id'));
    expect(header(await notifyOf('without-id'), 'Event')).toBe('presence');
  });
});
