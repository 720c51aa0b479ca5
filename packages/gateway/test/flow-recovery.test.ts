import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';

// RFC 5626 flow recovery: a client whose WebSocket was replaced (a new network, a laptop waking
// up) registers again on its new connection; requests inside its calls must follow it there, even
// while the old connection has not been noticed dead yet, and after it closes.
let gateway: RunningGateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  await gateway.close();
});

const CONTACT =
  '<sip:bob@laptop.invalid;transport=ws>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";reg-id=1';

async function registerBob(): Promise<RawSipClient> {
  const client = await RawSipClient.connect(gateway.wsUrl);
  client.send(
    sipRequest('REGISTER', 'sip:ringway.test', {
      from: 'sip:bob@ringway.test',
      to: 'sip:bob@ringway.test',
      callId: 'bob-registration',
      cseq: Date.now() % 100000,
      extra: [`Contact: ${CONTACT}`, 'Supported: outbound'],
    }),
  );
  await client.response(200);
  return client;
}

const isInvite = (m: { kind: string; method?: string }) => m.kind === 'request' && m.method === 'INVITE';

describe('flow recovery (RFC 5626)', () => {
  it('routes in-dialog requests to the new connection of the same instance, before and after the old one closes', async () => {
    const old = await registerBob();
    const alice = await RawSipClient.connect(gateway.wsUrl);
    const replacement = await registerBob();
    const reinvite = () =>
      alice.send(
        sipRequest('INVITE', 'sip:bob@laptop.invalid;transport=ws', {
          toTag: 'bob-tag',
          extra: ['Contact: <sip:alice@desk.invalid;transport=ws>'],
        }),
      );
    reinvite();
    await replacement.next(isInvite);
    await expect(old.next(isInvite, 300)).rejects.toThrow();
    old.close();
    await old.closed;
    reinvite();
    await replacement.next(isInvite);
    alice.close();
    replacement.close();
  });
});
