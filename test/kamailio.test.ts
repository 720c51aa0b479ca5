import { createSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import { startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { RawSipClient, sipRequest } from '../packages/gateway/test/support/raw-sip-client.js';
import {
  establishedCall,
  type Phone,
  reached,
  SessionState,
  sipjsPhone,
} from '../packages/gateway/test/support/sipjs.js';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';

const SECRET = 'kamailio-shared-secret-0123456789';
const ADMIN_TOKEN = 'operator-token-0123456789';
/** The gateway as the compose stack runs it: sharing Kamailio's secret. */
const GATEWAY_ENV = { AUTH_SECRET: SECRET, ADMIN_TOKEN };
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

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  await eventually(check, Boolean, () => `waited ${ms} ms for ${what}`, { ms, everyMs: 10 });
}

describe('kamailio-config/kamailio.cfg on Debian’s Kamailio 5.6 with WebSocket clients', () => {
  it('registers SIP.js clients with the gateway’s ephemeral credentials and routes a call between them', async () => {
    const alice = await phone('alice');
    const bob = await phone('bob');
    const { inviter, invitation } = await establishedCall(alice, bob, 'sip:bob@ringway.test');
    await inviter.bye();
    await reached(invitation, SessionState.Terminated);
  });

  /** `tcp:…` is Kamailio's WebSocket port too: its TCP listener takes plain SIP and HTTP upgrades. */
  const upstreams = {
    udp: () => kamailio.udp,
    tcp: () => `tcp:${new URL(kamailio.wsUrl).host}`,
    ws: () => kamailio.wsUrl,
  };

  async function gatewayPhones(upstream: string, users: string[]) {
    const gateway = await startUpstreamGateway(upstream, GATEWAY_ENV);
    const created: Phone[] = [];
    for (const user of users) {
      const credential = issueEphemeralCredential(SECRET, user, 300);
      const made = await sipjsPhone(gateway.wsUrl, user, {
        authorizationUsername: credential.username,
        authorizationPassword: credential.password,
      });
      phones.push(made);
      created.push(made);
    }
    return { gateway, phones: created };
  }

  async function call(from: Phone, to: Phone, user: string) {
    const { inviter, invitation } = await establishedCall(from, to, `sip:${user}@ringway.test`);
    await invitation.bye();
    await reached(inviter, SessionState.Terminated);
  }

  it.each(Object.keys(upstreams) as Array<keyof typeof upstreams>)(
    'behind the gateway in upstream mode over %s: clients register through it with a Path, and call each other',
    async (transport) => {
      const {
        gateway,
        phones: [dave, erin],
      } = await gatewayPhones(upstreams[transport](), [`dave-${transport}`, `erin-${transport}`]);
      try {
        await call(dave as Phone, erin as Phone, `erin-${transport}`);
        await call(erin as Phone, dave as Phone, `dave-${transport}`);
      } finally {
        await Promise.all(phones.splice(0).map((p) => p.stop().catch(() => undefined)));
        await gateway.close();
      }
    },
  );

  it.each(['tcp', 'ws'] as const)(
    'over %s the gateway reconnects by itself when Kamailio is killed and started again',
    async (transport) => {
      const {
        gateway,
        phones: [frank, grace],
      } = await gatewayPhones(upstreams[transport](), [`frank-${transport}`, `grace-${transport}`]);
      try {
        await kamailio.crashAndRestart();
        await until(
          () => gateway.app.sip.upstream?.up === false,
          2000,
          'the gateway to see the upstream gone',
        );
        await until(() => gateway.app.sip.upstream?.up === true, 5000, 'the gateway to reconnect');
        const metrics = await gateway.app.inject({
          url: '/metrics',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        expect(metrics.body).toContain('ringway_upstream_up 1');
        // Kamailio forgot them: registered again (through the new connection), they call again.
        for (const p of [frank, grace] as Phone[]) {
          await new Promise((resolve, reject) =>
            p.registerer.register({ requestDelegate: { onAccept: resolve, onReject: reject } }).catch(reject),
          );
        }
        await call(frank as Phone, grace as Phone, `grace-${transport}`);
      } finally {
        await Promise.all(phones.splice(0).map((p) => p.stop().catch(() => undefined)));
        await gateway.close();
      }
    },
    20_000,
  );

  it('behind the gateway, a stranger’s BYE inside somebody’s call is refused (403) and the call goes on', async () => {
    const {
      gateway,
      phones: [heidi, ivan],
    } = await gatewayPhones(kamailio.udp, ['heidi', 'ivan']);
    try {
      const { inviter, invitation } = await establishedCall(
        heidi as Phone,
        ivan as Phone,
        'sip:ivan@ringway.test',
      );
      const dialog = inviter.dialog as unknown as {
        callId: string;
        remoteTag: string;
        remoteTarget: { toString(): string };
        routeSet: string[];
      };
      const stranger = await RawSipClient.connect(gateway.wsUrl);
      try {
        for (const route of [dialog.routeSet, dialog.routeSet.map((r) => r.replace(/;dlg=[0-9a-f]+/i, ''))]) {
          stranger.send(
            sipRequest('BYE', dialog.remoteTarget.toString(), {
              from: 'sip:heidi@ringway.test',
              to: 'sip:ivan@ringway.test',
              toTag: dialog.remoteTag,
              callId: dialog.callId,
              cseq: 99,
              extra: route.map((r) => `Route: ${r}`),
            }),
          );
          await stranger.response(403);
        }
      } finally {
        stranger.close();
      }
      expect(invitation.state).toBe(SessionState.Established);
      await inviter.bye();
      await reached(invitation, SessionState.Terminated);
    } finally {
      await Promise.all(phones.splice(0).map((p) => p.stop().catch(() => undefined)));
      await gateway.close();
    }
  });

  it('answers a keep-alive OPTIONS to itself with 200, without a challenge; other OPTIONS are challenged', async () => {
    const [host, port] = kamailio.udp.split(':') as [string, string];
    const ask = (uri: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = createSocket('udp4');
        const timer = setTimeout(() => {
          socket.close();
          reject(new Error(`no answer to OPTIONS ${uri}`));
        }, 5000);
        socket.on('message', (data) => {
          clearTimeout(timer);
          socket.close();
          resolve(Number(/^SIP\/2\.0 (\d{3})/.exec(data.toString())?.[1]));
        });
        socket.bind(0, '127.0.0.1', () => {
          const local = socket.address().port;
          socket.send(
            [
              `OPTIONS ${uri} SIP/2.0`,
              `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${Date.now()}${Math.random().toString(36).slice(2)};rport`,
              'Max-Forwards: 70',
              `From: <sip:keepalive@127.0.0.1:${local}>;tag=ka`,
              `To: <${uri}>`,
              `Call-ID: keepalive-${Math.random().toString(36).slice(2)}`,
              'CSeq: 1 OPTIONS',
              'Content-Length: 0',
              '',
              '',
            ].join('\r\n'),
            Number(port),
            host,
          );
        });
      });
    expect(await ask(`sip:${kamailio.udp}`)).toBe(200);
    expect(await ask('sip:somebody@ringway.test')).toBe(407);
  });

  it('refuses an expired ephemeral credential', async () => {
    await expect(phone('carol', -10)).rejects.toThrow(/REGISTER refused: 401/);
  });
});
