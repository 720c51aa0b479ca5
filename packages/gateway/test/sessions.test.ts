import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { eventually } from '../../../test/support/eventually.js';
import { SessionService } from '../src/sessions/session-service.js';
import {
  canTransition,
  isFinalSessionState,
  SESSION_TRANSITIONS,
  SessionState,
} from '../src/sessions/session-state.js';
import { MemorySessionStore } from '../src/sessions/session-store.js';
import { ephemeralCredentials } from '../src/sip/auth/credentials.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { type Phone, sipjsPhone } from './support/sipjs.js';

const ADMIN_TOKEN = 'operator-token-0123456789';
const SECRET = 'sessions-test-secret-0123456789';
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const running: RunningGateway[] = [];
const phones: Phone[] = [];
afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(phones.splice(0).map((p) => p.stop().catch(() => undefined)));
  await Promise.all(running.splice(0).map((g) => g.close()));
});

async function gateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const started = await startGateway({ AUTH_SECRET: SECRET, ADMIN_TOKEN, CALL_LINKS: 'anyone', ...env });
  running.push(started);
  return started;
}

function service(timeouts = { waiting: 600_000, ready: 60_000, ringing: 60_000 }) {
  return new SessionService({
    store: new MemorySessionStore(),
    sipDomain: 'ringway.test',
    secret: SECRET,
    iceServers: [{ urls: 'turn:127.0.0.1:3478' }, { urls: 'stun:127.0.0.1:3478' }],
    ttlMs: 3_600_000,
    timeouts,
    maxLive: 2,
    log: quiet as never,
  });
}

describe('sessions API', () => {
  it('creates a session with a code, a join link and credentials; joins it; refuses a third person and unknown codes', async () => {
    const gw = await gateway();
    const created = await gw.app.inject({
      method: 'POST',
      url: '/api/sessions',
      headers: { host: `127.0.0.1:${gw.port}` },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      state: 'waiting',
      joinUrl: `http://127.0.0.1:${gw.port}/?join=${body.code}`,
    });
    expect(body.code).toMatch(/^[a-hjkmnp-z2-9]{10}$/);
    expect(body.credentials).toMatchObject({
      uri: `sip:rw-${body.id}-a@ringway.test`,
      authorizationUsername: expect.stringMatching(new RegExp(`^\\d+:rw-${body.id}-a$`)),
      wsServer: `ws://127.0.0.1:${gw.port}/sip`,
    });
    const joined = await gw.app.inject({ method: 'POST', url: `/api/sessions/${body.code}/join` });
    expect(joined.statusCode).toBe(200);
    expect(joined.json()).toMatchObject({ state: 'ready', peer: `sip:rw-${body.id}-a@ringway.test` });
    expect((await gw.app.inject({ method: 'POST', url: `/api/sessions/${body.code}/join` })).statusCode).toBe(
      409,
    );
    expect((await gw.app.inject({ method: 'POST', url: '/api/sessions/abcdefghjk/join' })).statusCode).toBe(
      404,
    );
    expect((await gw.app.inject({ method: 'DELETE', url: `/api/sessions/${body.id}` })).json()).toMatchObject(
      { state: 'ended' },
    );
    expect((await gw.app.inject({ method: 'POST', url: `/api/sessions/${body.code}/join` })).statusCode).toBe(
      410,
    );
    const docs = await gw.app.inject({
      url: '/docs/json',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(docs.json().paths).toHaveProperty('/api/sessions/{code}/join');
  });

  it('limits session creation per client address and the number of live sessions', async () => {
    const gw = await gateway({ SESSIONS_PER_MINUTE: '3', MAX_SESSIONS: '2' });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await gw.app.inject({ method: 'POST', url: '/api/sessions' })).statusCode);
    expect(statuses).toEqual([201, 201, 503, 429]);
  });

  it('streams every state change as Server-Sent Events, the current state first', async () => {
    const gw = await gateway();
    const { id, code } = (await gw.app.inject({ method: 'POST', url: '/api/sessions' })).json();
    const response = await fetch(`http://127.0.0.1:${gw.port}/api/sessions/${id}/events`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const states: string[] = [];
    const read = async (count: number) => {
      let text = '';
      while (states.length < count) {
        text += new TextDecoder().decode((await reader.read()).value);
        const events = text.split('\n\n');
        text = events.pop() ?? '';
        for (const event of events) {
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (data) states.push(JSON.parse(data).state);
        }
      }
    };
    await read(1);
    await gw.app.inject({ method: 'POST', url: `/api/sessions/${code}/join` });
    await gw.app.inject({ method: 'DELETE', url: `/api/sessions/${id}` });
    await read(3);
    expect(states).toEqual(['waiting', 'ready', 'ended']);
    await reader.cancel();
  });

  it('gives credentials the registrar accepts, and that stop working when the session does', async () => {
    const gw = await gateway();
    const { credentials, expiresAt } = (await gw.app.inject({ method: 'POST', url: '/api/sessions' })).json();
    const phone = await sipjsPhone(gw.wsUrl, credentials.uri.slice(4).split('@')[0], {
      authorizationUsername: credentials.authorizationUsername,
      authorizationPassword: credentials.authorizationPassword,
    });
    phones.push(phone);
    const source = ephemeralCredentials(SECRET);
    expect(source.lookup(credentials.authorizationUsername, Date.now())).toBeDefined();
    expect(source.lookup(credentials.authorizationUsername, Date.parse(expiresAt) + 1000)).toBeUndefined();
  });

  it('moves with the SIP traffic between the two identities: ringing, connected, ended', async () => {
    const gw = await gateway({ ALLOW_ANONYMOUS: 'false' });
    const { id, code, credentials } = (await gw.app.inject({ method: 'POST', url: '/api/sessions' })).json();
    const joined = (await gw.app.inject({ method: 'POST', url: `/api/sessions/${code}/join` })).json();
    const creator = await sipjsPhone(gw.wsUrl, `rw-${id}-a`, {
      authorizationUsername: credentials.authorizationUsername,
      authorizationPassword: credentials.authorizationPassword,
    });
    const joiner = await sipjsPhone(gw.wsUrl, `rw-${id}-b`, {
      authorizationUsername: joined.credentials.authorizationUsername,
      authorizationPassword: joined.credentials.authorizationPassword,
    });
    phones.push(creator, joiner);
    const state = async () => (await gw.app.inject({ url: `/api/sessions/${id}` })).json().state;
    const { Inviter, UserAgent } = await import('sip.js');
    const inviter = new Inviter(joiner.ua, UserAgent.makeURI(joined.peer) as never);
    void inviter.invite();
    const invitation = await creator.nextInvitation();
    expect(await state()).toBe('ringing');
    await invitation.accept();
    await eventually(
      state,
      (s) => s === 'connected',
      (s) => `session ${s}, not connected`,
    );
    await invitation.bye();
    await eventually(
      state,
      (s) => s === 'ended',
      (s) => `session ${s}, not ended`,
    );
  });
});

describe('SessionService timers', () => {
  it.each([
    ['waiting', 'expired', 'nobody joined in time', 600_000],
    ['ready', 'failed', 'nobody called in time', 60_000],
  ])('a session %s too long becomes %s (%s)', async (from, to, reason, ms) => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const sessions = service();
    const created = await sessions.create('ws://x/sip');
    if (!created) throw new Error('not created');
    if (from === 'ready') await sessions.join(created.code, 'ws://x/sip');
    await jest.advanceTimersByTimeAsync(ms - 1);
    expect((await sessions.get(created.session.id))?.state).toBe(from);
    await jest.advanceTimersByTimeAsync(1);
    expect(await sessions.get(created.session.id)).toMatchObject({ state: to, reason });
    sessions.close();
  });

  it('a ringing call nobody answers fails after the ringing limit', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const sessions = service();
    const created = await sessions.create('ws://x/sip');
    if (!created) throw new Error('not created');
    const id = created.session.id;
    await sessions.join(created.code, 'ws://x/sip');
    sessions.observe({ type: 'invite', callId: 'c', fromUser: `rw-${id}-b`, toUser: `rw-${id}-a` });
    await jest.advanceTimersByTimeAsync(0);
    expect((await sessions.get(id))?.state).toBe(SessionState.Ringing);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(await sessions.get(id)).toMatchObject({ state: 'failed', reason: 'no answer in time' });
    sessions.close();
  });

  it('refuses a third live session, adds TURN REST credentials, and ignores calls of strangers', async () => {
    const sessions = service();
    const first = await sessions.create('ws://x/sip');
    await sessions.create('ws://x/sip');
    expect(await sessions.create('ws://x/sip')).toBeUndefined();
    expect(first?.credentials.iceServers).toEqual([
      {
        urls: 'turn:127.0.0.1:3478',
        username: first?.credentials.authorizationUsername,
        credential: expect.any(String),
      },
      { urls: 'stun:127.0.0.1:3478' },
    ]);
    const id = first?.session.id as string;
    sessions.observe({ type: 'invite', callId: 'c', fromUser: 'mallory', toUser: `rw-${id}-a` });
    await new Promise((r) => setTimeout(r, 10));
    expect((await sessions.get(id))?.state).toBe('waiting');
    sessions.close();
  });

  it("applies one session's call events in the order seen: an answer right behind its INVITE, while the INVITE's move is still on its way to the store, connects the session", async () => {
    const sessions = service();
    const created = await sessions.create('ws://x/sip');
    const id = created?.session.id as string;
    await sessions.join(created?.code as string, 'ws://x/sip');
    const parties = { callId: 'c', fromUser: `rw-${id}-b`, toUser: `rw-${id}-a` };
    sessions.observe({ type: 'invite', ...parties });
    sessions.observe({ type: 'answered', ...parties });
    await eventually(
      async () => (await sessions.get(id))?.state,
      (s) => s === 'connected',
      (s) => `session ${s}, not connected`,
      { ms: 2_000 },
    );
    sessions.close();
  });

  it('a declined call between the two fails the session with the status', async () => {
    const sessions = service();
    const created = await sessions.create('ws://x/sip');
    const id = created?.session.id as string;
    await sessions.join(created?.code as string, 'ws://x/sip');
    sessions.observe({ type: 'invite', callId: 'c', fromUser: `rw-${id}-b`, toUser: `rw-${id}-a` });
    await eventually(
      async () => (await sessions.get(id))?.state,
      (s) => s === 'ringing',
      (s) => `session ${s}, not ringing`,
    );
    sessions.observe({
      type: 'rejected',
      callId: 'c',
      fromUser: `rw-${id}-b`,
      toUser: `rw-${id}-a`,
      status: 603,
    });
    await eventually(
      async () => (await sessions.get(id))?.state,
      (s) => s === 'failed',
      (s) => `session ${s}, not failed`,
    );
    expect(await sessions.get(id)).toMatchObject({ state: 'failed', reason: 'declined (603)' });
    sessions.close();
  });
});

describe('the session state table', () => {
  const states = Object.values(SessionState);
  const listed = new Set(SESSION_TRANSITIONS.map(([from, to]) => `${from}>${to}`));
  it.each(states.flatMap((from) => states.map((to) => [from, to] as const)))(
    '%s → %s allowed only when listed',
    (from, to) => {
      expect(canTransition(from, to)).toBe(listed.has(`${from}>${to}`));
      if (isFinalSessionState(from)) expect(canTransition(from, to)).toBe(false);
    },
  );
});
