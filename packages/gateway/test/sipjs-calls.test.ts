import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Inviter, Messager, UserAgent } from 'sip.js';
import { eventually } from '../../../test/support/eventually.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { dial, establishedCall, type Phone, reached, SessionState, sipjsPhone } from './support/sipjs.js';

let gateway: RunningGateway;
const phones: Phone[] = [];

async function phone(user: string, options: Parameters<typeof sipjsPhone>[2] = {}): Promise<Phone> {
  const created = await sipjsPhone(gateway.wsUrl, user, options);
  phones.push(created);
  return created;
}

beforeAll(async () => {
  gateway = await startGateway();
});
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await gateway.close();
});

async function registrations(): Promise<Array<{ aor: string }>> {
  const res = await gateway.app.inject({ url: '/api/registrations' });
  return (res.json() as { registrations: Array<{ aor: string }> }).registrations;
}

/** Resolves once the caller has seen 180 Ringing. */
const ringing = (call: { statuses: number[] }) =>
  eventually(
    () => call.statuses,
    (statuses) => statuses.includes(180),
    (statuses) => `the caller saw ${statuses}, no 180`,
  );

describe('SIP.js user agents through the gateway', () => {
  it('registers, shows in /api/registrations, and unregisters', async () => {
    const alice = await phone('alice');
    expect((await registrations()).map((r) => r.aor)).toContain('sip:alice@ringway.test');
    await alice.registerer.unregister();
    await eventually(
      registrations,
      (list) => !list.some((r) => r.aor === 'sip:alice@ringway.test'),
      () => 'alice is still registered',
    );
  });

  it('calls: 180 Ringing reaches the caller, answer, BYE from the caller ends both sides', async () => {
    const alice = await phone('alice');
    const bob = await phone('bob');
    const inviter = new Inviter(alice.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
    const call = dial(inviter);
    const invitation = await bob.nextInvitation();
    invitation.progress();
    await ringing(call);
    await invitation.accept();
    await reached(inviter, SessionState.Established);
    await reached(invitation, SessionState.Established);
    await inviter.bye();
    await reached(invitation, SessionState.Terminated);
    await reached(inviter, SessionState.Terminated);
  });

  it('BYE from the callee ends the call', async () => {
    const alice = await phone('alice');
    const bob = await phone('bob');
    const { inviter, invitation } = await establishedCall(alice, bob, 'sip:bob@ringway.test');
    await invitation.bye();
    await reached(inviter, SessionState.Terminated);
  });

  it('CANCEL before answer: the callee stops ringing and the caller gets 487', async () => {
    const alice = await phone('alice');
    const bob = await phone('bob');
    const inviter = new Inviter(alice.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
    const call = dial(inviter);
    const invitation = await bob.nextInvitation();
    invitation.progress();
    // A CANCEL needs a provisional answer first (RFC 3261 §9.1).
    await ringing(call);
    await inviter.cancel();
    await reached(invitation, SessionState.Terminated);
    await reached(inviter, SessionState.Terminated);
    await eventually(
      () => call.statuses,
      (statuses) => statuses.includes(487),
      (statuses) => `the caller saw ${statuses}`,
    );
  });

  it.each([
    [486, 'Busy Here'],
    [603, 'Decline'],
  ])('a %i %s from the callee reaches the caller', async (status) => {
    const alice = await phone('alice');
    const bob = await phone('bob');
    const inviter = new Inviter(alice.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
    const call = dial(inviter);
    const invitation = await bob.nextInvitation();
    await invitation.reject({ statusCode: status });
    await reached(inviter, SessionState.Terminated);
    expect(call.statuses).toContain(status);
  });

  it('forks to both devices of a user; the first to answer wins and the other is cancelled', async () => {
    const alice = await phone('alice');
    const bobDesk = await phone('bob');
    const bobMobile = await phone('bob');
    expect((await registrations()).filter((r) => r.aor === 'sip:bob@ringway.test')).toHaveLength(2);
    const inviter = new Inviter(alice.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
    const call = dial(inviter);
    const [desk, mobile] = await Promise.all([bobDesk.nextInvitation(), bobMobile.nextInvitation()]);
    // Both ring (a branch still "trying" when the other answers is cancelled once it rings).
    await Promise.all([desk.progress(), mobile.progress()]);
    await ringing(call);
    await mobile.accept();
    await reached(inviter, SessionState.Established);
    await reached(desk, SessionState.Terminated);
    expect(mobile.state).toBe(SessionState.Established);
    await inviter.bye();
  });

  it('puts a call on hold with a re-INVITE and resumes it', async () => {
    const alice = await phone('alice');
    const bob = await phone('bob');
    const inviter = new Inviter(alice.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
    dial(inviter);
    const invitation = await bob.nextInvitation();
    await invitation.accept();
    await reached(inviter, SessionState.Established);
    await reached(invitation, SessionState.Established);
    const remoteOfCallee = () =>
      (invitation.sessionDescriptionHandler as unknown as { remote: string }).remote;
    const reinviteOnce = (hold: boolean) =>
      new Promise<number>((resolve, reject) => {
        inviter
          .invite({
            sessionDescriptionHandlerOptions: { hold } as never,
            requestDelegate: {
              onAccept: (r) => resolve(r.message.statusCode ?? 0),
              onReject: (r) => resolve(r.message.statusCode ?? 0),
            },
          })
          .catch(reject);
      });
    // SIP.js answers 500 with Retry-After to a re-INVITE while it still processes the ACK or the
    // previous offer (RFC 3261 §14.2): try again after a moment, as a user agent would.
    const reinvite = async (hold: boolean) => {
      for (let attempt = 0; ; attempt++) {
        const status = await reinviteOnce(hold);
        if (status !== 500 || attempt === 20) return status;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    };
    expect(await reinvite(true)).toBe(200);
    expect(remoteOfCallee()).toContain('a=sendonly');
    expect(await reinvite(false)).toBe(200);
    expect(remoteOfCallee()).toContain('a=sendrecv');
    expect(inviter.state).toBe(SessionState.Established);
    await inviter.bye();
  });

  it('delivers a MESSAGE', async () => {
    const alice = await phone('alice');
    const bob = await phone('bob');
    const accepted: number[] = [];
    await new Messager(alice.ua, UserAgent.makeURI('sip:bob@ringway.test') as never, 'hello bob').message({
      requestDelegate: { onAccept: (r) => accepted.push(r.message.statusCode ?? 0) },
    });
    await eventually(
      () => bob.messages,
      (messages) => messages.length > 0,
      () => 'bob got no MESSAGE',
    );
    expect(bob.messages).toEqual(['hello bob']);
    // Bob's 200 reaches alice after bob has the message: wait for it too.
    await eventually(
      async () => accepted,
      (statuses) => statuses.length > 0,
      () => 'alice heard no final answer',
    );
    expect(accepted).toEqual([200]);
  });

  it('answers 404 for an unknown user and 480 for a known user with no device', async () => {
    const alice = await phone('alice');
    const carol = await phone('carol');
    await carol.registerer.unregister();
    const statuses: number[] = [];
    for (const target of ['sip:nobody@ringway.test', 'sip:carol@ringway.test']) {
      const inviter = new Inviter(alice.ua, UserAgent.makeURI(target) as never);
      const call = dial(inviter);
      await reached(inviter, SessionState.Terminated);
      statuses.push(...call.statuses);
    }
    expect(statuses).toEqual([404, 480]);
  });

  it('removes the bindings of a WebSocket that drops', async () => {
    const dave = await phone('dave');
    expect((await registrations()).map((r) => r.aor)).toContain('sip:dave@ringway.test');
    await dave.ua.transport.disconnect();
    await eventually(
      registrations,
      (list) => !list.some((r) => r.aor === 'sip:dave@ringway.test'),
      () => 'dave is still registered',
    );
  });
});
