import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type Inviter, Messager, SessionState, UserAgent } from 'sip.js';
import { eventually } from '../../../test/support/eventually.js';
import { header, type SipRequest } from '../src/sip/message.js';
import { createResponse } from '../src/sip/responses.js';
import { serializeSipMessage } from '../src/sip/serializer.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { freeTcpPort } from './support/loopback-ports.mjs';
import { RawSipClient, registeredRawClient, sipRequest } from './support/raw-sip-client.js';
import { establishedCall, type Phone, reached, sipjsPhone } from './support/sipjs.js';

// Regression tests of the attack campaign in issue 11, run with authentication on as an
// operator would: a users file, no anonymous access.
const PASSWORDS: Record<string, string> = {
  alice: 'alice-password',
  bob: 'bob-password',
  mallory: 'mallory-password',
};
const usersFile = join(mkdtempSync(join(tmpdir(), 'ringway-')), 'users.json');
writeFileSync(usersFile, JSON.stringify(PASSWORDS));

const ADMIN_TOKEN = 'operator-token-0123456789';
const asOperator = { authorization: `Bearer ${ADMIN_TOKEN}` };
let gateway: RunningGateway;
const phones: Phone[] = [];
const clients: RawSipClient[] = [];

async function phone(user: string): Promise<Phone> {
  const created = await sipjsPhone(gateway.wsUrl, user, {
    authorizationUsername: user,
    authorizationPassword: PASSWORDS[user],
  });
  phones.push(created);
  return created;
}

async function stranger(): Promise<RawSipClient> {
  const client = await RawSipClient.connect(gateway.wsUrl);
  clients.push(client);
  return client;
}

/** A raw client that registered as `user` with its password, so its connection is that user's. */
async function registeredRaw(user: string, contact?: string) {
  return registeredRawClient(await stranger(), user, PASSWORDS[user] as string, contact);
}

const requestsTo = (client: RawSipClient) =>
  client.received.filter((m): m is SipRequest => m.kind === 'request');

/** Bob and alice registered with their passwords; alice calls bob and bob answers. */
async function aliceCallsBob() {
  const bob = await phone('bob');
  const alice = await phone('alice');
  return establishedCall(alice, bob, 'sip:bob@ringway.test');
}

async function message(from: Phone, to: string, text: string): Promise<void> {
  await new Messager(from.ua, UserAgent.makeURI(to) as never, text).message();
}

beforeAll(async () => {
  gateway = await startGateway({ USERS_FILE: usersFile, ALLOW_ANONYMOUS: 'false', ADMIN_TOKEN });
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(phones.splice(0).map((p) => p.stop().catch(() => undefined)));
});
afterAll(async () => {
  await gateway.close();
});

describe('an address-of-record is reached only through its registrations (issue 11 §1)', () => {
  it('a stranger that sends bob’s AoR as its Contact gets a challenge, and none of bob’s calls or messages', async () => {
    const bob = await phone('bob');
    const alice = await phone('alice');
    const attacker = await stranger();
    attacker.send(
      sipRequest('OPTIONS', 'sip:ringway.test', {
        from: 'sip:bob@ringway.test',
        extra: ['Contact: <sip:bob@ringway.test>', 'Contact: <sip:bob@127.0.0.1>'],
      }),
    );
    await attacker.response(407);

    await message(alice, 'sip:bob@ringway.test', 'for bob only');
    await eventually(
      () => bob.messages,
      (m) => m.includes('for bob only'),
      () => 'bob never got the MESSAGE',
    );
    const { inviter } = await establishedCall(alice, bob, 'sip:bob@ringway.test');
    await inviter.bye();
    expect(requestsTo(attacker)).toEqual([]);
  });

  it('another registered user cannot take over bob’s contact by sending it', async () => {
    const { inviter, invitation } = await aliceCallsBob();
    const bobsContact = inviter.dialog?.remoteTarget.toString() as string;
    expect(bobsContact).toMatch(/\.invalid/);
    const mallory = await registeredRaw('mallory', `<${bobsContact}>`);
    mallory.send(
      sipRequest('MESSAGE', 'sip:alice@ringway.test', {
        from: 'sip:mallory@ringway.test',
        extra: [`Contact: <${bobsContact}>`],
        body: 'hi',
      }),
    );
    await inviter.bye();
    await reached(invitation, SessionState.Terminated);
    expect(requestsTo(mallory).filter((r) => r.method === 'BYE')).toEqual([]);
  });
});

describe('in-dialog requests only for dialogs the gateway routed, between their parties (issue 11 §7)', () => {
  const inDialog = (
    method: string,
    call: { inviter: Inviter },
    overrides: { route?: string[]; callId?: string; from?: string } = {},
  ) => {
    const dialog = call.inviter.dialog;
    if (!dialog) throw new Error('no dialog');
    // SIP.js's core dialog keeps the route set; its Session interface does not show it.
    const routes = overrides.route ?? (dialog as unknown as { routeSet: string[] }).routeSet;
    return sipRequest(method, dialog.remoteTarget.toString(), {
      from: overrides.from ?? 'sip:alice@ringway.test',
      to: 'sip:bob@ringway.test',
      toTag: dialog.remoteTag,
      callId: overrides.callId ?? dialog.callId,
      cseq: 99,
      extra: routes.map((route) => `Route: ${route}`),
    });
  };

  it('refuses a BYE from a stranger without our Record-Route token, and bob’s call goes on', async () => {
    const call = await aliceCallsBob();
    const attacker = await stranger();
    attacker.send(inDialog('BYE', call, { route: [`<sip:127.0.0.1:${gateway.port};transport=ws;lr>`] }));
    const refusal = await attacker.response(403);
    expect(header(refusal, 'Warning')).toMatch(/not in a dialog this gateway routed/);
    attacker.send(inDialog('BYE', call, { callId: 'another-call' }));
    await attacker.response(403);
    expect(call.invitation.state).toBe(SessionState.Established);
    await call.inviter.bye();
  });

  it('challenges a stranger that replays the real route as alice, and relays nothing', async () => {
    const call = await aliceCallsBob();
    const attacker = await stranger();
    attacker.send(inDialog('BYE', call));
    await attacker.response(407);
    attacker.send(inDialog('ACK', call));
    expect(call.invitation.state).toBe(SessionState.Established);
    await call.inviter.bye();
    await reached(call.invitation, SessionState.Terminated);
  });

  it('refuses an in-dialog request of a third user, even authenticated, between the two parties', async () => {
    const call = await aliceCallsBob();
    const mallory = await registeredRaw('mallory');
    mallory.send(inDialog('INFO', call, { from: 'sip:mallory@ringway.test' }));
    await mallory.response(403);
    expect(call.invitation.state).toBe(SessionState.Established);
    await call.inviter.bye();
  });

  it('reads the token from the Request-URI when a strict router put our Record-Route there (RFC 3261 §16.4)', async () => {
    const call = await aliceCallsBob();
    const ours = (call.inviter.dialog as unknown as { routeSet: string[] }).routeSet[0] as string;
    const alice = await registeredRaw('alice');
    const dialog = call.inviter.dialog;
    alice.send(
      sipRequest('INFO', ours.replace(/^<|>$/g, ''), {
        from: 'sip:alice@ringway.test',
        to: 'sip:bob@ringway.test',
        toTag: dialog?.remoteTag,
        callId: dialog?.callId,
        cseq: 99,
        extra: [`Route: <${dialog?.remoteTarget.toString()}>`],
      }).replace(/^From: .*$/m, `From: <sip:alice@ringway.test>;tag=${dialog?.localTag}`),
    );
    const answer = await alice.next((m) => m.kind === 'response' && m.status >= 200);
    expect(answer.kind === 'response' && answer.status).not.toBe(403);
    expect(answer.kind === 'response' && answer.status).toBeLessThan(300);
    await call.inviter.bye();
  });

  it('takes a CANCEL only from the connection the INVITE came on', async () => {
    const bob = await phone('bob');
    const mallory = await registeredRaw('mallory');
    const invite = sipRequest('INVITE', 'sip:bob@ringway.test', {
      from: 'sip:mallory@ringway.test',
      extra: ['Contact: <sip:mallory-raw@raw.invalid;transport=ws>'],
    });
    mallory.send(invite);
    const invitation = await bob.nextInvitation();
    await mallory.response(180);
    const cancel = invite
      .replace(/^INVITE /, 'CANCEL ')
      .replace(/CSeq: 1 INVITE/, 'CSeq: 1 CANCEL')
      .replace(/^Contact:.*\r\n/m, '');
    const attacker = await stranger();
    attacker.send(cancel);
    await attacker.response(481);
    expect(invitation.state).toBe(SessionState.Initial);
    mallory.send(cancel);
    await mallory.response(200);
    await mallory.response(487);
    await reached(invitation, SessionState.Terminated);
  });
});

describe('metric labels come from a fixed set (issue 11 §2)', () => {
  it('counts extension methods from strangers as "other", whatever they are called', async () => {
    const attacker = await stranger();
    for (let i = 0; i < 30; i++) attacker.send(sipRequest(`XMETHOD${i}`, 'sip:ringway.test'));
    await eventually(
      () => attacker.received.length,
      (n) => n >= 30,
      (n) => `only ${n} answers`,
    );
    const metrics = (await gateway.app.inject({ url: '/metrics', headers: asOperator })).body;
    expect(metrics).not.toMatch(/XMETHOD/);
    expect(metrics).toMatch(/ringway_sip_handling_seconds_count\{kind="other"\} (\d+)/);
  });
});

describe('operator endpoints need the operator’s credential when users need one (issue 11 §5)', () => {
  const OPERATOR_URLS = ['/api/registrations', '/metrics', '/docs/json', '/docs'];

  it.each(OPERATOR_URLS)(
    '%s: 401 without the token, 401 with a wrong one, 200 with ADMIN_TOKEN',
    async (url) => {
      expect((await gateway.app.inject({ url })).statusCode).toBe(401);
      const wrong = await gateway.app.inject({ url, headers: { authorization: 'Bearer guessed-token' } });
      expect(wrong.statusCode).toBe(401);
      const right = await gateway.app.inject({ url, headers: asOperator });
      expect([200, 302]).toContain(right.statusCode);
    },
  );

  it('keeps them closed (403) when credentials are configured and no ADMIN_TOKEN is', async () => {
    const closed = await startGateway({ USERS_FILE: usersFile });
    try {
      for (const url of OPERATOR_URLS) {
        const response = await closed.app.inject({ url, headers: asOperator });
        expect(response.statusCode).toBe(403);
        expect(response.json().error).toMatch(/ADMIN_TOKEN/);
      }
      expect((await closed.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await closed.close();
    }
  });
});

describe('call-quality reports only from a party of the call (issue 11 §4)', () => {
  it('refuses a stranger who knows the Call-ID, and still takes the callee’s own report', async () => {
    const { inviter, invitation } = await aliceCallsBob();
    await inviter.bye();
    const callId = inviter.request.callId;
    const report = {
      direction: 'incoming',
      durationMs: 1000,
      lossPercent: 0,
      reconnects: 0,
      reconnectMs: [],
      warnings: [],
    };
    const url = `/api/calls/${encodeURIComponent(callId)}/quality`;
    for (let i = 0; i < 2; i++) {
      expect((await gateway.app.inject({ method: 'POST', url, payload: report })).statusCode).toBe(401);
    }
    const token = invitation.request.getHeader('Ringway-Call-Token');
    const own = await gateway.app.inject({
      method: 'POST',
      url,
      payload: report,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(own.statusCode).toBe(202);
  });

  it('strips call tokens and asserted identities that clients send (RFC 3325 §9.1)', async () => {
    const bob = await phone('bob');
    const mallory = await registeredRaw('mallory');
    mallory.send(
      sipRequest('INVITE', 'sip:bob@ringway.test', {
        from: 'sip:mallory@ringway.test',
        extra: [
          'Contact: <sip:mallory-raw@raw.invalid;transport=ws>',
          'P-Asserted-Identity: <sip:alice@ringway.test>',
          'Remote-Party-ID: <sip:alice@ringway.test>;party=calling',
          'Ringway-Call-Token: forged.Ym9i',
        ],
      }),
    );
    const invitation = await bob.nextInvitation();
    expect(invitation.request.getHeader('P-Asserted-Identity')).toBeUndefined();
    expect(invitation.request.getHeader('Remote-Party-ID')).toBeUndefined();
    expect(invitation.request.getHeaders('Ringway-Call-Token')).toHaveLength(1);
    expect(invitation.request.getHeader('Ringway-Call-Token')).not.toBe('forged.Ym9i');
    await invitation.reject();
  });
});

describe('a body labelled application/sdp that is no SDP is the sender’s mistake (issue 11 §3)', () => {
  it.each([
    ['hello', 'hello'],
    ['an empty m-line', 'v=0\r\nm=\r\n'],
  ])('answers an INVITE whose SDP is %s with 400 and a Warning, never 500', async (_name, body) => {
    await phone('bob');
    const mallory = await registeredRaw('mallory');
    mallory.send(
      sipRequest('INVITE', 'sip:bob@ringway.test', {
        from: 'sip:mallory@ringway.test',
        extra: ['Contact: <sip:mallory-raw@raw.invalid;transport=ws>', 'Content-Type: application/sdp'],
        body,
      }),
    );
    const refusal = await mallory.response(400);
    expect(header(refusal, 'Warning')).toMatch(/399 ringway "malformed SDP offer/);
    expect(mallory.received.filter((m) => m.kind === 'response' && m.status === 500)).toEqual([]);
  });

  it('passes on a 2xx whose late offer is no SDP, so the caller is not left hanging', async () => {
    const bob = await registeredRaw('bob');
    const mallory = await registeredRaw('mallory');
    mallory.send(
      sipRequest('INVITE', 'sip:bob@ringway.test', {
        from: 'sip:mallory@ringway.test',
        extra: ['Contact: <sip:mallory-raw@raw.invalid;transport=ws>'],
      }),
    );
    const invite = await bob.next((m) => m.kind === 'request' && m.method === 'INVITE');
    const ok = createResponse(invite as SipRequest, 200, [
      { name: 'Contact', value: '<sip:bob-raw@raw.invalid;transport=ws>' },
      { name: 'Content-Type', value: 'application/sdp' },
    ]);
    bob.send(serializeSipMessage({ ...ok, body: 'hello' }));
    const answered = await mallory.response(200);
    expect(answered.body).toBe('hello');
  });
});

describe('smaller faults (issue 11 §8)', () => {
  it('does not relay a status code above 699 (RFC 3261 §7.2)', async () => {
    const bob = await registeredRaw('bob');
    const mallory = await registeredRaw('mallory');
    mallory.send(
      sipRequest('INVITE', 'sip:bob@ringway.test', {
        from: 'sip:mallory@ringway.test',
        extra: ['Contact: <sip:mallory-raw@raw.invalid;transport=ws>'],
      }),
    );
    const invite = (await bob.next((m) => m.kind === 'request' && m.method === 'INVITE')) as SipRequest;
    bob.send(serializeSipMessage({ ...createResponse(invite, 486), status: 999, reason: 'Weird' }));
    bob.send(serializeSipMessage(createResponse(invite, 486)));
    await mallory.response(486);
    expect(mallory.received.filter((m) => m.kind === 'response' && m.status > 699)).toEqual([]);
  });

  it('answers 400 to a From whose quoted display name never ends', async () => {
    const attacker = await stranger();
    const request = sipRequest('OPTIONS', 'sip:ringway.test').replace(
      /^From: .*$/m,
      'From: "a <sip:a@ringway.test>;tag=1',
    );
    attacker.send(request);
    expect(header(await attacker.response(400), 'Warning')).toMatch(/malformed From/);
  });

  it('takes a Route naming the gateway’s address on another port for somebody else’s: 403, no relay', async () => {
    await phone('bob');
    const mallory = await registeredRaw('mallory');
    mallory.send(
      sipRequest('MESSAGE', 'sip:bob@ringway.test', {
        from: 'sip:mallory@ringway.test',
        extra: ['Route: <sip:127.0.0.1:5060;lr>'],
      }),
    );
    expect(header(await mallory.response(403), 'Warning')).toMatch(/no relay/);
  });

  it('counts malformed messages in the rate limit: a flood of garbage closes the connection', async () => {
    const limited = await startGateway({
      USERS_FILE: usersFile,
      RATE_MESSAGES_PER_SECOND: '1',
      RATE_MESSAGE_BURST: '5',
    });
    try {
      const attacker = await RawSipClient.connect(limited.wsUrl);
      for (let i = 0; i < 50; i++) attacker.send(`garbage ${i}\r\n\r\n`);
      expect((await attacker.closed).code).toBe(1008);
    } finally {
      await limited.close();
    }
  });

  it('limits join attempts per address (429), so codes cannot be guessed at speed', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const response = await gateway.app.inject({ method: 'POST', url: `/api/sessions/guess${i}/join` });
      statuses.add(response.statusCode);
    }
    expect([...statuses].sort()).toEqual([404, 429]);
  });

  it('with Redis unreachable: 503 and Retry-After at once, not ready, and nothing on stderr', async () => {
    const deadPort = await freeTcpPort();
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      errors.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    const withoutRedis = await startGateway({
      AUTH_SECRET: 'a-shared-secret-of-some-length',
      REDIS_URL: `redis://127.0.0.1:${deadPort}`,
    });
    try {
      const created = await withoutRedis.app.inject({ method: 'POST', url: '/api/sessions' });
      expect(created.statusCode).toBe(503);
      expect(created.headers['retry-after']).toBe('5');
      expect((await withoutRedis.app.inject({ url: '/readyz' })).statusCode).toBe(503);
      expect((await withoutRedis.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await withoutRedis.close();
      process.stderr.write = write;
    }
    expect(errors.filter((line) => line.includes('ioredis'))).toEqual([]);
  });
});
