import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Flow } from '../src/sip/flow.js';
import { header, type SipMessage, type SipRequest } from '../src/sip/message.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { NOTIFY_TIMEOUT_MS, Notifier } from '../src/sip/presence/notifier.js';
import { PresenceBook } from '../src/sip/presence/presence-book.js';
import { SUBSCRIPTION_LIMITS } from '../src/sip/presence/subscription-limits.js';
import { createResponse } from '../src/sip/responses.js';
import { sipRequest } from './support/raw-sip-client.js';

// Issue 22 §11: the notifier on its own, with the presence book it reads and flows that keep
// what is sent to them, so that limits in the thousands and timers are checked exactly.
const quiet = () => undefined;
const log = { debug: quiet, info: quiet, warn: quiet, error: quiet };

interface FakeFlow extends Flow {
  sent: SipMessage[];
}

function flowAt(address: string, id: string): FakeFlow {
  const sent: SipMessage[] = [];
  return {
    id,
    transport: 'WS',
    remoteAddress: address,
    remotePort: 40000,
    sent,
    send: (text) => sent.push(parseSipMessage(text)),
    close: quiet,
  };
}

function gateway() {
  const online = new Set<string>();
  let count = 0;
  // The book tells the notifier, which reads the book: each needs the other.
  const book: PresenceBook = new PresenceBook({
    online: (user) => online.has(user),
    changed: (user) => notifier.changed(user),
  });
  const notifier = new Notifier({
    book,
    domain: 'ringway.test',
    sentBy: () => '127.0.0.1:8080',
    log,
    counted: (n) => {
      count = n;
    },
  });
  return {
    notifier,
    book,
    subscriptions: () => count,
    /** `watcher` subscribes on `flow` to `target`'s dialog package; resolves to the status. */
    subscribe(flow: FakeFlow, watcher: string, target: string): number {
      const before = flow.sent.length;
      const request = parseSipMessage(
        sipRequest('SUBSCRIBE', `sip:${target}@ringway.test`, {
          from: `sip:${watcher}@ringway.test`,
          extra: ['Event: dialog', `Contact: <sip:${watcher}@w.invalid;transport=ws>`],
        }),
      ) as SipRequest;
      notifier.subscribe(request, flow);
      const answer = flow.sent.slice(before).find((m) => m.kind === 'response');
      return answer?.kind === 'response' ? answer.status : 0;
    },
  };
}

const notifies = (flow: FakeFlow) =>
  flow.sent.filter((m): m is SipRequest => m.kind === 'request' && m.method === 'NOTIFY');
const answer = (notifier: Notifier, notify: SipRequest) => notifier.response(createResponse(notify, 200));
const version = (notify: SipRequest) => Number(/version="(\d+)"/.exec(notify.body)?.[1]);
const dialogs = (notify: SipRequest) => [...notify.body.matchAll(/<state>(\w+)<\/state>/g)].map((m) => m[1]);

describe('subscription limits', () => {
  it('refuses one user past its limit with 503, Retry-After and a Warning; another user still subscribes', () => {
    const { subscribe } = gateway();
    const { user, connection } = SUBSCRIPTION_LIMITS;
    const statuses: number[] = [];
    for (let i = 0; statuses.length <= user.max; i++) {
      const flow = flowAt('192.0.2.10', `mallory-${i}`);
      for (let j = 0; j < connection.max && statuses.length <= user.max; j++)
        statuses.push(subscribe(flow, 'mallory', 'bob'));
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(user.max);
    expect(statuses.at(-1)).toBe(503);
    const refusing = flowAt('192.0.2.10', 'mallory-more');
    expect(subscribe(refusing, 'mallory', 'bob')).toBe(503);
    const refusal = refusing.sent[0] as SipMessage;
    expect(header(refusal, 'Retry-After')).toBe('60');
    expect(header(refusal, 'Warning')).toBe(`399 ringway "too many subscriptions of mallory (${user.max})"`);
    // From the same address, someone else is still served.
    expect(subscribe(flowAt('192.0.2.10', 'alice'), 'alice', 'bob')).toBe(200);
  });

  it('refuses one address past its limit, whichever users it names; another address still subscribes', () => {
    const { subscribe, subscriptions } = gateway();
    const { address, user, connection } = SUBSCRIPTION_LIMITS;
    let accepted = 0;
    let refused = 0;
    for (let n = 0; accepted + refused <= address.max; n++) {
      const name = `user${Math.floor(n / (user.max / connection.max))}`;
      const flow = flowAt('198.51.100.7', `flow-${n}`);
      for (let j = 0; j < connection.max && accepted + refused <= address.max; j++) {
        if (subscribe(flow, name, 'bob') === 200) accepted++;
        else refused++;
      }
    }
    expect([accepted, refused]).toEqual([address.max, 1]);
    const refusing = flowAt('198.51.100.7', 'fresh');
    expect(subscribe(refusing, 'newcomer', 'bob')).toBe(503);
    expect(header(refusing.sent[0] as SipMessage, 'Warning')).toMatch(/of 198\.51\.100\.7 \(\d+\)/);
    expect(subscribe(flowAt('203.0.113.5', 'elsewhere'), 'newcomer', 'bob')).toBe(200);
    expect(subscriptions()).toBe(address.max + 1);
  });

  it('gives a place back when a subscription ends', () => {
    const { notifier, subscribe } = gateway();
    const flows = [flowAt('192.0.2.20', 'a'), flowAt('192.0.2.20', 'b')];
    for (const flow of flows)
      for (let i = 0; i < SUBSCRIPTION_LIMITS.connection.max; i++) subscribe(flow, 'carol', 'bob');
    const third = flowAt('192.0.2.20', 'c');
    for (let i = 0; i < SUBSCRIPTION_LIMITS.user.max - 2 * SUBSCRIPTION_LIMITS.connection.max; i++)
      expect(subscribe(third, 'carol', 'bob')).toBe(200);
    expect(subscribe(third, 'carol', 'bob')).toBe(503);
    notifier.flowClosed('a');
    expect(subscribe(third, 'carol', 'bob')).toBe(200);
  });
});

describe('NOTIFYs for changes', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Carol calls bob and hangs up `calls` times, then calls once more and bob's phone rings. */
  function burst(book: PresenceBook, calls: number): void {
    for (let i = 0; i < calls; i++) {
      const call = { callId: `call-${i}`, fromUser: 'carol', toUser: 'bob', fromTag: `t${i}` };
      book.callEvent({ ...call, type: 'invite' });
      book.callEvent({ ...call, type: 'answered' });
      book.callEvent({ ...call, type: 'bye' });
    }
    book.callEvent({ type: 'invite', callId: 'last', fromUser: 'carol', toUser: 'bob', fromTag: 'tl' });
  }

  it('151 changes in a burst make two NOTIFYs: the first change at once, then the final state', () => {
    const { notifier, book, subscribe } = gateway();
    const alice = flowAt('192.0.2.1', 'alice');
    expect(subscribe(alice, 'alice', 'bob')).toBe(200);
    answer(notifier, notifies(alice)[0] as SipRequest);

    burst(book, 50); // 151 changes
    const told = notifies(alice).slice(1);
    // The first change goes at once; the 150 after it wait for its answer and go as one.
    expect(told).toHaveLength(1);
    answer(notifier, told[0] as SipRequest);
    const all = notifies(alice);
    expect(all).toHaveLength(3);
    expect(dialogs(all.at(-1) as SipRequest)).toEqual(['early']);
    expect(all.map(version)).toEqual([0, 1, 2]);
    // Nothing more comes: the state told is the state.
    jest.advanceTimersByTime(10_000);
    expect(notifies(alice)).toHaveLength(3);
  });

  it('sends no second NOTIFY while one waits for its answer, and the answer brings the latest state', () => {
    const { notifier, book, subscribe } = gateway();
    const alice = flowAt('192.0.2.1', 'alice');
    subscribe(alice, 'alice', 'bob');
    book.callEvent({ type: 'invite', callId: 'c1', fromUser: 'carol', toUser: 'bob', fromTag: 'x' });
    // The first NOTIFY is not answered yet: the ringing waits.
    jest.advanceTimersByTime(1000);
    expect(notifies(alice)).toHaveLength(1);
    answer(notifier, notifies(alice)[0] as SipRequest);
    expect(dialogs(notifies(alice)[1] as SipRequest)).toEqual(['early']);

    book.callEvent({ type: 'answered', callId: 'c1', fromUser: 'carol', toUser: 'bob' });
    book.callEvent({ type: 'bye', callId: 'c1', fromUser: 'carol', toUser: 'bob' });
    jest.advanceTimersByTime(10_000);
    expect(notifies(alice)).toHaveLength(2);
    answer(notifier, notifies(alice)[1] as SipRequest);
    // Answered: the call's end at once, its answer skipped.
    expect(notifies(alice)).toHaveLength(3);
    expect(dialogs(notifies(alice)[2] as SipRequest)).toEqual([]);
  });

  it('tells a call’s changes as they happen to a watcher that answers', () => {
    const { notifier, book, subscribe } = gateway();
    const alice = flowAt('192.0.2.1', 'alice');
    subscribe(alice, 'alice', 'bob');
    answer(notifier, notifies(alice)[0] as SipRequest);
    const call = { callId: 'c1', fromUser: 'carol', toUser: 'bob', fromTag: 'x' };
    const steps = [
      { ...call, type: 'invite' as const },
      { ...call, type: 'ringing' as const, toTag: 'y' },
      { ...call, type: 'answered' as const },
      { ...call, type: 'bye' as const },
    ];
    for (const step of steps) {
      book.callEvent(step);
      answer(notifier, notifies(alice).at(-1) as SipRequest);
    }
    const told = notifies(alice).slice(1);
    expect(told.map(dialogs)).toEqual([['early'], ['early'], ['confirmed'], []]);
    expect(told[1]?.body).toContain('local-tag="y" remote-tag="x"');
  });

  it('ends the subscription of a watcher that leaves a NOTIFY unanswered, holding one timer meanwhile', () => {
    const { book, subscribe, subscriptions } = gateway();
    const silent = flowAt('192.0.2.2', 'silent');
    subscribe(silent, 'carol', 'bob');
    burst(book, 20);
    expect(notifies(silent)).toHaveLength(1);
    expect(subscriptions()).toBe(1);
    jest.advanceTimersByTime(NOTIFY_TIMEOUT_MS);
    expect(subscriptions()).toBe(0);
  });
});
