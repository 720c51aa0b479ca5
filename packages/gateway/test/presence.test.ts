import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Inviter, SessionState, Subscriber, UserAgent } from 'sip.js';
import { eventually } from '../../../test/support/eventually.js';
import { header, headers, type SipMessage } from '../src/sip/message.js';
import { SUBSCRIPTION_LIMITS } from '../src/sip/presence/subscription-limits.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, registeredRawClient, sipRequest } from './support/raw-sip-client.js';
import { dial, type Phone, reached, sipjsPhone } from './support/sipjs.js';

// The embedded registrar as presence agent (RFC 3856) and dialog-event notifier (RFC 4235),
// with authentication on as an operator runs it. SIP.js's Subscriber is the watcher.
const PASSWORDS: Record<string, string> = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' };
const usersFile = join(mkdtempSync(join(tmpdir(), 'ringway-')), 'users.json');
writeFileSync(usersFile, JSON.stringify(PASSWORDS));

const ADMIN_TOKEN = 'operator-token-0123456789';
let gateway: RunningGateway;
const phones: Phone[] = [];
const clients: RawSipClient[] = [];
const watching: Subscriber[] = [];

async function phone(user: string): Promise<Phone> {
  const created = await sipjsPhone(gateway.wsUrl, user, {
    authorizationUsername: user,
    authorizationPassword: PASSWORDS[user],
  });
  phones.push(created);
  return created;
}

/** A SIP.js subscription of `watcher` to `user`'s `event`, keeping every NOTIFY body it got. */
async function watch(watcher: Phone, user: string, event: 'presence' | 'dialog') {
  const bodies: string[] = [];
  const states: string[] = [];
  const subscriber = new Subscriber(
    watcher.ua,
    UserAgent.makeURI(`sip:${user}@ringway.test`) as never,
    event,
    {
      expires: 600,
    },
  );
  subscriber.delegate = {
    onNotify: (notification) => {
      bodies.push(notification.request.body);
      states.push(notification.request.getHeader('Subscription-State') ?? '');
      void notification.accept();
    },
  };
  await subscriber.subscribe();
  watching.push(subscriber);
  // SIP.js hands NOTIFYs to the delegate only once the first one has made the dialog.
  await eventually(
    () => bodies.length,
    (n) => n > 0,
    () => `no first NOTIFY of ${user}'s ${event}`,
  );
  const latest = (pattern: RegExp, what: string) =>
    eventually(
      () => bodies.at(-1) ?? '',
      (body) => pattern.test(body),
      (body) => `${user}'s ${event} is not ${what}: ${body}`,
      { ms: 4000 },
    );
  return { subscriber, bodies, states, latest };
}

const subscriptions = async () => {
  const text = (
    await gateway.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  ).body;
  return Number(/^ringway_presence_subscriptions (\d+)/m.exec(text)?.[1]);
};

beforeAll(async () => {
  gateway = await startGateway({ USERS_FILE: usersFile, ALLOW_ANONYMOUS: 'false', ADMIN_TOKEN });
});
afterEach(async () => {
  // SIP.js's UserAgent.stop() waits for a live subscription's end, which its dialog never
  // reports after an unsubscribe (0.21.2); ending them first lets it stop.
  await Promise.all(watching.splice(0).map((s) => s.unsubscribe()));
  for (const client of clients.splice(0)) client.close();
  await Promise.all(phones.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await gateway.close();
});

describe('presence and dialog state of registered users', () => {
  it('tells a watcher live: offline, online, ringing, on a call, online, offline', async () => {
    const alice = await phone('alice');
    const presence = await watch(alice, 'bob', 'presence');
    const dialog = await watch(alice, 'bob', 'dialog');
    await presence.latest(/<basic>closed<\/basic>/, 'offline');
    await dialog.latest(/<dialog-info[^>]*state="full"[^>]*>\s*<\/dialog-info>/, 'idle');
    expect(presence.states[0]).toMatch(/^active;expires=\d+/);

    const bob = await phone('bob');
    await presence.latest(/<basic>open<\/basic>/, 'online');

    const carol = await phone('carol');
    const inviter = new Inviter(carol.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
    dial(inviter);
    const invitation = await bob.nextInvitation();
    invitation.progress();
    // Ringing: what a pickup needs — the call's identifiers and its caller (RFC 4235 §4.1.6).
    await dialog.latest(
      /call-id="[^"]+" local-tag="[^"]+" remote-tag="[^"]+" direction="recipient"><state>early<\/state><remote><identity>sip:carol@ringway\.test<\/identity>/,
      'ringing, with what a pickup needs',
    );
    await invitation.accept();
    await reached(inviter, SessionState.Established);
    await dialog.latest(/direction="recipient"><state>confirmed<\/state>/, 'on a call');
    // Answered: only that it goes on.
    expect(dialog.bodies.at(-1)).not.toMatch(/call-id|local-tag|identity/);
    await presence.latest(/on-the-phone/, 'on the phone');
    await inviter.bye();
    await dialog.latest(/<dialog-info[^>]*>\s*<\/dialog-info>/, 'idle again');
    await presence.latest(/<basic>open<\/basic>(?![\s\S]*on-the-phone)/, 'online and off the phone');

    await bob.registerer.unregister();
    await presence.latest(/<basic>closed<\/basic>/, 'offline again');
    // Versions count up on every document of a subscription (RFC 4235 §4.1.2).
    const versions = dialog.bodies.map((b) => Number(/version="(\d+)"/.exec(b)?.[1]));
    expect(versions).toEqual(versions.map((_, i) => i));
  });

  it('a caller shows as the initiator of an early dialog; a refused call ends it', async () => {
    const alice = await phone('alice');
    const carol = await phone('carol');
    const bob = await phone('bob');
    const dialog = await watch(alice, 'carol', 'dialog');
    const inviter = new Inviter(carol.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
    dial(inviter);
    const invitation = await bob.nextInvitation();
    await dialog.latest(/direction="initiator"><state>early/, 'calling');
    await invitation.reject();
    await dialog.latest(/<dialog-info[^>]*>\s*<\/dialog-info>/, 'idle after the refusal');
  });

  it('ends subscriptions on unsubscribe and when the watcher’s connection closes', async () => {
    const alice = await phone('alice');
    const first = await watch(alice, 'bob', 'presence');
    await watch(alice, 'carol', 'dialog');
    await eventually(
      subscriptions,
      (n) => n === 2,
      (n) => `${n} subscriptions, wanted 2`,
    );
    await first.subscriber.unsubscribe();
    await eventually(
      subscriptions,
      (n) => n === 1,
      (n) => `${n} subscriptions after unsubscribe`,
    );
    await alice.ua.transport.disconnect();
    await eventually(
      subscriptions,
      (n) => n === 0,
      (n) => `${n} subscriptions after the flow closed`,
    );
  });

  it('asks an unproven watcher for credentials and refuses bad requests with their status', async () => {
    const client = await RawSipClient.connect(gateway.wsUrl);
    clients.push(client);
    const subscribe = (extra: string[]) =>
      sipRequest('SUBSCRIBE', 'sip:bob@ringway.test', {
        from: 'sip:alice@ringway.test',
        extra: ['Contact: <sip:w@raw.invalid;transport=ws>', ...extra],
      });
    client.send(subscribe(['Event: presence']));
    const challenge = await client.response(407);
    expect(header(challenge, 'Proxy-Authenticate')).toMatch(/^Digest /);

    // Once alice has proven herself on this connection (she registers), her bad requests get answers.
    const alice = await registeredRawClient(client, 'alice', PASSWORDS.alice as string);
    const own = (extra: string[]) =>
      sipRequest('SUBSCRIBE', 'sip:bob@ringway.test', {
        from: 'sip:alice@ringway.test',
        extra: ['Contact: <sip:alice-raw@raw.invalid;transport=ws>', ...extra],
      });
    alice.send(own(['Event: presence', 'Expires: 10']));
    expect(header(await alice.response(423), 'Min-Expires')).toBe('60');
    alice.send(own(['Event: dialog', 'Accept: text/plain']));
    await alice.response(406);
    // A package served nowhere here (no voicemail in embedded mode): refused, not proxied to
    // bob's own phones.
    alice.send(own(['Event: message-summary']));
    expect(headers(await alice.response(489), 'Allow-Events')).toEqual(['presence', 'dialog']);
    alice.send(
      sipRequest('SUBSCRIBE', `sip:presence@127.0.0.1:${gateway.port};transport=ws`, {
        from: 'sip:alice@ringway.test',
        to: 'sip:bob@ringway.test',
        toTag: 'nosuchsubscription',
        extra: ['Contact: <sip:alice-raw@raw.invalid;transport=ws>', 'Event: presence'],
      }),
    );
    await alice.response(481);
    expect(await subscriptions()).toBe(0);

    // Subscribed by hand: the 200 carries our tag, a NOTIFY follows; Expires: 0 ends it with a
    // last NOTIFY whose state is terminated (RFC 6665 §4.2.1.4).
    alice.send(
      sipRequest('SUBSCRIBE', 'sip:bob@ringway.test', {
        from: 'sip:alice@ringway.test',
        callId: 'raw-watch',
        extra: ['Contact: <sip:alice-raw@raw.invalid;transport=ws>', 'Event: presence'],
      }),
    );
    const ok = await alice.response(200);
    const notify = await alice.next((m) => m.kind === 'request' && m.method === 'NOTIFY');
    expect(header(notify, 'Subscription-State')).toMatch(/^active;expires=3600$/);
    expect(notify.body).toContain('<basic>closed</basic>');
    const toTag = /;tag=([^;]+)/.exec(header(ok, 'To') as string)?.[1] as string;
    alice.send(
      sipRequest('SUBSCRIBE', /<([^>]+)>/.exec(header(ok, 'Contact') as string)?.[1] as string, {
        from: 'sip:alice@ringway.test',
        to: 'sip:bob@ringway.test',
        toTag,
        callId: 'raw-watch',
        cseq: 2,
        extra: ['Contact: <sip:alice-raw@raw.invalid;transport=ws>', 'Event: presence', 'Expires: 0'],
      }),
    );
    await alice.response(200);
    const last = await alice.next((m) => m.kind === 'request' && m.method === 'NOTIFY');
    expect(header(last, 'Subscription-State')).toBe('terminated');
    expect(await subscriptions()).toBe(0);
  });

  it('sends a watcher that stops answering its NOTIFYs no more of them, however often its user changes', async () => {
    const client = await RawSipClient.connect(gateway.wsUrl);
    clients.push(client);
    const silent = await registeredRawClient(client, 'carol', PASSWORDS.carol as string);
    silent.send(
      sipRequest('SUBSCRIBE', 'sip:bob@ringway.test', {
        from: 'sip:carol@ringway.test',
        extra: ['Contact: <sip:carol-raw@raw.invalid;transport=ws>', 'Event: presence'],
      }),
    );
    await silent.response(200);
    // Alice answers hers: she sees every change, so each has happened when she has seen it.
    const alice = await phone('alice');
    const presence = await watch(alice, 'bob', 'presence');
    for (let i = 0; i < 3; i++) {
      const bob = await phone('bob');
      await presence.latest(/<basic>open<\/basic>/, 'online');
      await bob.ua.transport.disconnect();
      await presence.latest(/<basic>closed<\/basic>/, 'offline');
    }
    // Carol got the first NOTIFY and, having answered none, nothing since: its answer (or Timer F,
    // 32 s, which ends the subscription) comes first.
    const isNotify = (m: SipMessage) => m.kind === 'request' && m.method === 'NOTIFY';
    expect(silent.received.filter(isNotify)).toHaveLength(1);
    expect(await subscriptions()).toBe(2);
  });

  it('refuses a user past its subscription limit with 503 and a Warning, while another user still subscribes', async () => {
    // Its own gateway, with a message rate that lets a client send its SUBSCRIBEs back to back.
    const limited = await startGateway({
      USERS_FILE: usersFile,
      ALLOW_ANONYMOUS: 'false',
      RATE_MESSAGES_PER_SECOND: '10000',
      RATE_MESSAGE_BURST: '10000',
    });
    try {
      const { user, connection } = SUBSCRIPTION_LIMITS;
      const subscribeAll = async (who: string, count: number) => {
        const client = await RawSipClient.connect(limited.wsUrl);
        clients.push(client);
        const contact = `<sip:${who}-${clients.length}@raw.invalid;transport=ws>`;
        await registeredRawClient(client, who, PASSWORDS[who] as string, contact);
        for (let i = 0; i < count; i++)
          client.send(
            sipRequest('SUBSCRIBE', 'sip:bob@ringway.test', {
              from: `sip:${who}@ringway.test`,
              callId: `${who}-watch-${clients.length}-${i}`,
              extra: [`Contact: ${contact}`, 'Event: dialog'],
            }),
          );
        const answers: SipMessage[] = [];
        for (let i = 0; i < count; i++)
          answers.push(
            await client.next((m) => m.kind === 'response' && header(m, 'CSeq') === '1 SUBSCRIBE'),
          );
        return answers;
      };
      // Alice fills two connections, then tries once more from a third.
      const answers = [
        ...(await subscribeAll('alice', connection.max)),
        ...(await subscribeAll('alice', user.max - connection.max)),
      ];
      expect(answers.filter((m) => m.kind === 'response' && m.status === 200)).toHaveLength(user.max);
      const [refused] = await subscribeAll('alice', 1);
      expect(refused?.kind === 'response' && refused.status).toBe(503);
      expect(header(refused as SipMessage, 'Warning')).toBe(
        `399 ringway "too many subscriptions of alice (${user.max})"`,
      );
      expect(header(refused as SipMessage, 'Retry-After')).toBe('60');
      const [carols] = await subscribeAll('carol', 1);
      expect(carols?.kind === 'response' && carols.status).toBe(200);
    } finally {
      await limited.close();
    }
  }, 20_000);
});
