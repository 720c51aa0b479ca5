import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Inviter, UserAgent } from 'sip.js';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import { startGateway } from '../packages/gateway/test/support/gateway.js';
import {
  dial,
  type Phone,
  reached,
  SessionState,
  sipjsPhone,
} from '../packages/gateway/test/support/sipjs.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';

const SECRET = 'kamailio-shared-secret-0123456789';
let kamailio: RunningKamailio;
const phones: Phone[] = [];

beforeAll(async () => {
  kamailio = await startKamailio({ secret: SECRET, sipDomain: 'ringway.test' });
}, 20_000);
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop().catch(() => undefined)));
});
afterAll(async () => {
  await kamailio?.stop();
});

async function phone(user: string, ttlSeconds = 300): Promise<Phone> {
  const credential = issueEphemeralCredential(SECRET, user, ttlSeconds);
  const created = await sipjsPhone(kamailio.wsUrl, user, {
    authorizationUsername: credential.username,
    authorizationPassword: credential.password,
  });
  phones.push(created);
  return created;
}

describe('kamailio-config/kamailio.cfg on Debian’s Kamailio 5.6 with WebSocket clients', () => {
  it('registers SIP.js clients with the gateway’s ephemeral credentials and routes a call between them', async () => {
    const alice = await phone('alice');
    const bob = await phone('bob');
    const inviter = new Inviter(alice.ua, UserAgent.makeURI('sip:bob@ringway.test') as never);
    dial(inviter);
    const invitation = await bob.nextInvitation();
    await invitation.accept();
    await reached(inviter, SessionState.Established);
    await inviter.bye();
    await reached(invitation, SessionState.Terminated);
  });

  it('behind the gateway in upstream mode: clients register through it with a Path, and call each other', async () => {
    const gateway = await startGateway({ UPSTREAM: kamailio.udp, SIP_DOMAIN: 'ringway.test' });
    try {
      for (let i = 0; i < 100 && !gateway.app.sip.upstream?.up; i++)
        await new Promise((r) => setTimeout(r, 20));
      const viaGateway = async (user: string) => {
        const credential = issueEphemeralCredential(SECRET, user, 300);
        const created = await sipjsPhone(gateway.wsUrl, user, {
          authorizationUsername: credential.username,
          authorizationPassword: credential.password,
        });
        phones.push(created);
        return created;
      };
      const dave = await viaGateway('dave');
      const erin = await viaGateway('erin');
      const inviter = new Inviter(dave.ua, UserAgent.makeURI('sip:erin@ringway.test') as never);
      dial(inviter);
      const invitation = await erin.nextInvitation();
      await invitation.accept();
      await reached(inviter, SessionState.Established);
      await invitation.bye();
      await reached(inviter, SessionState.Terminated);
    } finally {
      await Promise.all(phones.splice(0).map((p) => p.stop().catch(() => undefined)));
      await gateway.close();
    }
  });

  it('refuses an expired ephemeral credential', async () => {
    await expect(phone('carol', -10)).rejects.toThrow(/REGISTER refused: 401/);
  });
});
