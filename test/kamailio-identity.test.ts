import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { header, headers, type SipMessage } from '../packages/gateway/src/sip/message.js';
import { freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { type Credential, type SipRequestOptions, UdpSipPhone } from './support/udp-sip-phone.js';

// Issue 22, Kamailio side: who may speak as whom through kamailio-config/kamailio.cfg, in upstream
// mode where the gateway relays its clients' own credentials over UDP, TCP or TLS. Each test
// sends the raw SIP that reproduced a hole, over UDP from loopback sockets (a gateway's view).
const SECRET = 'kamailio-identity-secret-0123456789';
const DOMAIN = 'ringway.test';

/** auth_ephemeral's scheme, computed here rather than with the gateway's code. */
function credentialOf(user: string): Credential {
  const username = `${Math.floor(Date.now() / 1000) + 300}:${user}`;
  return { username, password: createHmac('sha1', SECRET).update(username).digest('base64') };
}

const status = (m: SipMessage) => (m.kind === 'response' ? m.status : 0);

let kamailio: RunningKamailio;
const endpoints: UdpSipPhone[] = [];
let pbx: UdpSipPhone;

async function endpoint(): Promise<UdpSipPhone> {
  const created = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN });
  endpoints.push(created);
  return created;
}

/** `user` registered from a socket of its own, with its own credential. */
async function registered(user: string): Promise<UdpSipPhone> {
  const phone = await endpoint();
  const answer = await phone.authenticated('REGISTER', `sip:${DOMAIN}`, user, credentialOf(user), {
    extra: ['Expires: 300'],
  });
  expect(status(answer)).toBe(200);
  return phone;
}

/** Sends `method` to `target` as `user` from `phone` and returns the final status. */
async function send(
  phone: UdpSipPhone,
  method: string,
  user: string,
  target: string,
  options: SipRequestOptions = {},
): Promise<number> {
  return status(
    await phone.authenticated(method, `sip:${target}@${DOMAIN}`, user, credentialOf(user), options),
  );
}

beforeAll(async () => {
  const pbxPort = await freeUdpPort();
  kamailio = await startKamailio({
    secret: SECRET,
    sipDomain: DOMAIN,
    pbx: `127.0.0.1:${pbxPort}`,
    presence: true,
  });
  pbx = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN, port: pbxPort });
  endpoints.push(pbx);
}, 20_000);

afterAll(async () => {
  for (const e of endpoints) e.close();
  await kamailio?.stop();
});

describe('kamailio-config/kamailio.cfg: a credential speaks for its own user only', () => {
  it('refuses (403) a REGISTER whose To is another user, binding or removing, and bob stays reachable', async () => {
    const bob = await registered('bob');
    const mallory = await endpoint();
    const asBob = { to: `sip:bob@${DOMAIN}` };
    expect(
      status(
        await mallory.authenticated('REGISTER', `sip:${DOMAIN}`, 'mallory', credentialOf('mallory'), asBob),
      ),
    ).toBe(403);
    expect(
      status(
        await mallory.authenticated('REGISTER', `sip:${DOMAIN}`, 'mallory', credentialOf('mallory'), {
          ...asBob,
          extra: ['Contact: *', 'Expires: 0'],
        }),
      ),
    ).toBe(403);
    const alice = await endpoint();
    expect(await send(alice, 'INVITE', 'alice', 'bob')).toBe(486);
    expect(await bob.got('INVITE')).toBe(true);
  });

  it('keeps user names case-sensitive: Bea’s own credential cannot unregister bea', async () => {
    const bea = await registered('bea');
    const other = await endpoint();
    expect(
      status(
        await other.authenticated('REGISTER', `sip:${DOMAIN}`, 'Bea', credentialOf('Bea'), {
          extra: ['Contact: *', 'Expires: 0'],
        }),
      ),
    ).toBe(200);
    const alice = await endpoint();
    expect(await send(alice, 'INVITE', 'alice', 'bea')).toBe(486);
    expect(await bea.got('INVITE')).toBe(true);
  });

  it('refuses (403) a MESSAGE or INVITE whose From is not the credential’s user', async () => {
    const cody = await registered('cody');
    const mallory = await endpoint();
    const asCeo = { from: `sip:ceo@${DOMAIN}` };
    expect(await send(mallory, 'MESSAGE', 'mallory', 'cody', asCeo)).toBe(403);
    expect(await send(mallory, 'INVITE', 'mallory', 'cody', asCeo)).toBe(403);
    expect(await cody.got('MESSAGE')).toBe(false);
    expect(await cody.got('INVITE')).toBe(false);
    expect(await send(mallory, 'MESSAGE', 'mallory', 'cody')).toBe(200);
  });
});

/** A call-link session's id; its guests are rw-<id>-a and rw-<id>-b. */
const SESSION = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const OTHER_SESSION = '0123456789abcdef0123456789abcdef';
const PBX_NUMBER = '0015551234'; // not registered: WITH_PBX sends it to the PBX

describe('kamailio-config/kamailio.cfg: call-link guests', () => {
  const a = `rw-${SESSION}-a`;
  const b = `rw-${SESSION}-b`;

  it('lets each guest of a session call the other, and register itself', async () => {
    const guestA = await registered(a);
    const guestB = await registered(b);
    expect(await send(guestA, 'INVITE', a, b)).toBe(486);
    expect(await guestB.got('INVITE')).toBe(true);
    expect(await send(guestB, 'INVITE', b, a)).toBe(486);
    expect(await guestA.got('INVITE')).toBe(true);
  });

  it('refuses (403) anything else from a guest: other users, other sessions, PBX numbers, MESSAGE, SUBSCRIBE, OPTIONS', async () => {
    const guestA = await registered(a);
    const guestB = await registered(b);
    const gus = await registered('gus');
    const stranger = await registered(`rw-${OTHER_SESSION}-b`);
    // The PBX route works (for a user): what a guest gets below is the guests' rule.
    expect(await send(gus, 'INVITE', 'gus', PBX_NUMBER)).toBe(486);
    expect(await pbx.got('INVITE')).toBe(true);
    pbx.requests.length = 0;

    expect(await send(guestA, 'INVITE', a, 'gus')).toBe(403);
    expect(await send(guestA, 'INVITE', a, PBX_NUMBER)).toBe(403);
    expect(await send(guestA, 'INVITE', a, `rw-${OTHER_SESSION}-b`)).toBe(403);
    expect(await send(guestA, 'INVITE', a, a)).toBe(403);
    expect(await send(guestA, 'MESSAGE', a, b)).toBe(403);
    expect(await send(guestA, 'MESSAGE', a, 'gus')).toBe(403);
    expect(await send(guestA, 'OPTIONS', a, 'gus')).toBe(403);
    expect(await send(guestA, 'SUBSCRIBE', a, 'gus', { extra: ['Event: presence', 'Expires: 60'] })).toBe(
      403,
    );
    expect(await pbx.got('INVITE')).toBe(false);
    expect(await gus.got('INVITE')).toBe(false);
    expect(await gus.got('MESSAGE')).toBe(false);
    expect(await gus.got('OPTIONS')).toBe(false);
    expect(await stranger.got('INVITE')).toBe(false);
    expect(await guestB.got('MESSAGE')).toBe(false);
  });

  it('refuses (403) any request from a user to a guest, however the guest is spelt', async () => {
    const guestA = await registered(a);
    const bob = await endpoint();
    expect(await send(bob, 'INVITE', 'bob', a)).toBe(403);
    expect(await send(bob, 'MESSAGE', 'bob', a)).toBe(403);
    expect(await send(bob, 'INVITE', 'bob', `%72w-${SESSION}-a`)).toBe(403);
    expect(await send(bob, 'INVITE', 'bob', `RW-${SESSION.toUpperCase()}-A`)).toBe(403);
    expect(await guestA.got('INVITE')).toBe(false);
    expect(await guestA.got('MESSAGE')).toBe(false);
  });
});

const PIDF = (user: string, note: string) =>
  [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:${user}@${DOMAIN}">`,
    `<tuple id="spoof"><status><basic>open</basic></status><note>${note}</note></tuple>`,
    '</presence>',
  ].join('');

describe('kamailio-config/kamailio.cfg: presence documents are its own', () => {
  it('refuses (403) a PUBLISH from another loopback socket; its own PUBLISHes still reach watchers', async () => {
    await registered('dora');
    const watcher = await endpoint();
    const notified = (text: string) =>
      watcher.next(
        (m) => m.kind === 'request' && m.method === 'NOTIFY' && m.body.includes(text),
        3000,
        `no NOTIFY with ${text}`,
      );
    const open = notified('<basic>open</basic>');
    const subscribed = await send(watcher, 'SUBSCRIBE', 'erin', 'dora', {
      extra: ['Event: presence', 'Accept: application/pidf+xml', 'Expires: 60'],
    });
    expect([200, 202]).toContain(subscribed);
    await open; // pua_usrloc's PUBLISH for dora's registration, admitted

    const spoofer = await endpoint();
    const callId = `publish-${randomBytes(6).toString('hex')}`;
    const note = 'In the CEO’s office, call me on 0900';
    spoofer.send(
      spoofer.request('PUBLISH', `sip:dora@${DOMAIN}`, {
        from: `sip:dora@${DOMAIN}`,
        callId,
        extra: ['Event: presence', 'Expires: 60', 'Content-Type: application/pidf+xml'],
        body: PIDF('dora', note),
      }),
    );
    expect(status(await spoofer.finalResponse(callId, 1))).toBe(403);
    await expect(notified(note)).rejects.toThrow(/no NOTIFY/);
  });
});

describe('kamailio-config/kamailio.cfg: in-dialog requests follow its own Record-Route only', () => {
  it('refuses (403) a request with a To tag routed through it to any host and port, and relays nothing', async () => {
    const target = await endpoint();
    const stranger = await endpoint();
    const routes = [
      [`Route: <sip:${kamailio.udp};lr>`, `Route: <sip:${target.address};lr>`],
      [`Route: <sip:${kamailio.udp};lr>, <sip:${target.address};lr>`],
      [`Route: <sip:${target.address};lr>`],
    ];
    for (const extra of routes) {
      const callId = `stray-${randomBytes(6).toString('hex')}`;
      const dialog = { from: `sip:x@${DOMAIN}`, toTag: 'abc', callId, extra };
      stranger.send(stranger.request('ACK', `sip:ua@${target.address}`, dialog));
      stranger.send(stranger.request('BYE', `sip:ua@${target.address}`, { ...dialog, cseq: 2 }));
      expect(status(await stranger.finalResponse(callId, 2))).toBe(403);
    }
    expect(await target.got('ACK')).toBe(false);
    expect(await target.got('BYE')).toBe(false);
  });

  it('relays the ACK and BYE of a call it record-routed', async () => {
    const carol = await registered('carol');
    carol.answer = () => 200;
    const alice = await endpoint();
    const answer = await alice.authenticated('INVITE', `sip:carol@${DOMAIN}`, 'alice', credentialOf('alice'));
    expect(status(answer)).toBe(200);
    const routeSet = headers(answer, 'Record-Route').reverse();
    expect(routeSet.join()).toMatch(/;rws=[0-9a-f]{32}/);
    const remote = header(answer, 'Contact')?.match(/<([^>]+)>/)?.[1] as string;
    const dialog = {
      from: `sip:alice@${DOMAIN}`,
      fromTag: /;tag=([^;]+)/.exec(header(answer, 'From') ?? '')?.[1] as string,
      to: `sip:carol@${DOMAIN}`,
      toTag: /;tag=([^;]+)/.exec(header(answer, 'To') ?? '')?.[1] as string,
      callId: header(answer, 'Call-ID') as string,
      extra: routeSet.map((r) => `Route: ${r}`),
    };
    alice.send(alice.request('ACK', remote, { ...dialog, cseq: 2 }));
    alice.send(alice.request('BYE', remote, { ...dialog, cseq: 3 }));
    expect(status(await alice.finalResponse(dialog.callId, 3))).toBe(200);
    expect(await carol.got('ACK')).toBe(true);
    expect(await carol.got('BYE')).toBe(true);
  });
});
