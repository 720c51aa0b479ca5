import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import { header, headers, type SipMessage, type SipRequest } from '../packages/gateway/src/sip/message.js';
import { freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { UdpSipPhone } from './support/udp-sip-phone.js';

// Issue 25 items 4 and 5, Kamailio's side: kamailio-config/kamailio.cfg as a cluster of two nodes
// replicating registrations (and presence documents) over DMQ (-A WITH_DMQ), and in-dialog
// failover between Ringway gateways listed as dispatcher set 2 (-A WITH_GATEWAYS). Plain UDP SIP
// phones and "gateways" (UDP sockets that answer OPTIONS) on loopback, Debian's Kamailio 5.6.
const SECRET = 'kamailio-cluster-secret-0123456789';
const DOMAIN = 'ringway.test';
const credential = (user: string) => issueEphemeralCredential(SECRET, user, 300);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const status = (message: SipMessage) => (message.kind === 'response' ? message.status : 0);
const tagOf = (value: string | undefined) => value?.match(/;\s*tag=([^;>\s]+)/)?.[1] ?? '';
const opened: UdpSipPhone[] = [];

async function phone(kamailio: RunningKamailio, answer?: (request: SipRequest) => number) {
  const created = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN, ...(answer ? { answer } : {}) });
  opened.push(created);
  return created;
}

afterAll(() => {
  for (const p of opened.splice(0)) {
    try {
      p.close();
    } catch {
      // already closed by the test (a gateway that went away)
    }
  }
});

describe('two Kamailio nodes replicating over DMQ (-A WITH_DMQ)', () => {
  let nodeA: RunningKamailio;
  let nodeB: RunningKamailio;

  beforeAll(async () => {
    const [portA, portB] = [await freeUdpPort(), await freeUdpPort()];
    const peers = [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`];
    const node = (udpPort: number, notify: string) =>
      startKamailio({ secret: SECRET, sipDomain: DOMAIN, presence: true, udpPort, dmq: { peers, notify } });
    nodeA = await node(portA, `127.0.0.1:${portB}`);
    nodeB = await node(portB, `127.0.0.1:${portA}`);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  });

  /** A call from a fresh phone on `via` to `user`: the final status (486 = the busy phone was reached, 404 = unknown). */
  async function callThrough(via: RunningKamailio, user: string): Promise<number> {
    const caller = await phone(via);
    try {
      return status(
        await caller.authenticated('INVITE', `sip:${user}@${DOMAIN}`, 'carol', credential('carol')),
      );
    } finally {
      caller.close();
      opened.splice(opened.indexOf(caller), 1);
    }
  }

  let bob: UdpSipPhone;
  /**
   * UdpSipPhone sends everything, its answers included, to the node it was opened with; a real
   * phone answers to where the request came from (RFC 3261 §18.2.2): the node that relays the call.
   */
  const answersThrough = (phone: UdpSipPhone, node: RunningKamailio) => {
    phone.kamailio.port = Number(node.udp.split(':')[1]);
  };

  it('a phone registered through node A is called through node B', async () => {
    bob = await phone(nodeA);
    const registered = await bob.authenticated('REGISTER', `sip:${DOMAIN}`, 'bob', credential('bob'));
    expect(status(registered)).toBe(200);
    const since = Date.now();
    await eventually(
      () => callThrough(nodeB, 'bob'),
      (code) => code === 486,
      (code) => `a call to bob through node B ended with ${code}`,
      { ms: 5_000, everyMs: 20 },
    );
    console.log(`registration through A reachable through B after ${Date.now() - since} ms`);
    expect(bob.requests.filter((r) => r.method === 'INVITE').length).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it('a watcher subscribed through node A is notified when its contact registers through node B (presence over DMQ)', async () => {
    const watcher = await phone(nodeA);
    expect([200, 202]).toContain(await watcher.watchPresence('dave', 'carol', credential('carol')));
    const notifies = () => watcher.presenceDocuments();
    await eventually(
      () => notifies().length,
      (n) => n >= 1,
      () => 'no first NOTIFY',
    );
    expect(notifies().some((body) => /<basic>open<\/basic>/.test(body))).toBe(false);

    const dave = await phone(nodeB);
    const since = Date.now();
    expect(status(await dave.authenticated('REGISTER', `sip:${DOMAIN}`, 'dave', credential('dave')))).toBe(
      200,
    );
    await eventually(
      () => notifies().some((body) => /<basic>open<\/basic>/.test(body)),
      Boolean,
      () => `no NOTIFY with dave open through node A: ${notifies().join(' | ')}`,
      { ms: 5_000, everyMs: 20 },
    );
    console.log(`dave registered through B: watcher on A notified after ${Date.now() - since} ms`);
  }, 20_000);

  it('refuses a KDMQ request from an address that is not a node of the cluster', async () => {
    const intruder = await phone(nodeB);
    const callId = `kdmq-${hex(6)}`;
    // A dmq_usrloc "add contact" for eve, pointing at the intruder.
    const body = JSON.stringify({
      action: 1,
      aor: 'eve',
      ruid: `ruid-${hex(6)}`,
      c: `sip:eve@${intruder.address}`,
      received: '',
      path: '',
      callid: hex(8),
      user_agent: 'x',
      instance: '',
      expires: Math.floor(Date.now() / 1000) + 600,
      cseq: 1,
      flags: 0,
      cflags: 0,
      q: -1,
      last_modified: Math.floor(Date.now() / 1000),
      methods: 4294967295,
      reg_id: 0,
    });
    intruder.send(
      intruder.request('KDMQ', `sip:usrloc@${nodeB.udp}`, {
        from: `sip:${intruder.address}`,
        callId,
        extra: ['Content-Type: application/json'],
        body,
      }),
    );
    const refused = await intruder.finalResponse(callId, 1);
    expect(status(refused)).toBe(403);
    // The refusal seen, eve is unknown on both nodes.
    expect(await callThrough(nodeB, 'eve')).toBe(404);
    expect(await callThrough(nodeA, 'eve')).toBe(404);
  }, 20_000);

  it('node A killed: calls through B still reach the phone; restarted, A gets the registrations back from B and routes to it', async () => {
    await nodeA.crash();
    answersThrough(bob, nodeB);
    const invitesBefore = bob.requests.filter((r) => r.method === 'INVITE').length;
    expect(await callThrough(nodeB, 'bob')).toBe(486);
    expect(bob.requests.filter((r) => r.method === 'INVITE').length).toBe(invitesBefore + 1);

    const invitesAfterCrash = bob.requests.filter((r) => r.method === 'INVITE').length;
    const startedAt = Date.now();
    await nodeA.start();
    const acceptingAt = Date.now();
    answersThrough(bob, nodeA);
    let attempts = 0;
    await eventually(
      () => {
        attempts += 1;
        // No answer at all (a request that came while it was still starting) counts as not yet.
        return callThrough(nodeA, 'bob').catch(() => 0);
      },
      (code) => code === 486,
      (code) => `a call to bob through the restarted node A ended with ${code}`,
      { ms: 10_000, everyMs: 20 },
    );
    const callable = Date.now();
    console.log(
      `node A restarted: callable through A ${callable - startedAt} ms after the restart began ` +
        `(${callable - acceptingAt} ms after it accepted connections, call attempt ${attempts}), bob never registered again`,
    );
    // Bob registered once, through A before its crash: the binding came back from B.
    expect(bob.requests.filter((r) => r.method === 'INVITE').length).toBeGreaterThan(invitesAfterCrash);
    expect(callable - startedAt).toBeLessThan(5_000);

    // Presence documents do not come back by themselves: Debian's 5.6 presence module replicates
    // each PUBLISH over DMQ as it happens, but answers a restarted node's sync request with
    // nothing (pres_dmq_send_all_presentities is a stub there). A watcher subscribing through the
    // restarted A first sees dave closed, and open once dave registers again through B.
    const watcher = await phone(nodeA);
    expect([200, 202]).toContain(await watcher.watchPresence('dave', 'carol', credential('carol')));
    const notifies = () => watcher.presenceDocuments();
    await eventually(
      () => notifies().length,
      (n) => n >= 1,
      () => 'no first NOTIFY from the restarted node A',
    );
    expect(notifies().some((body) => /<basic>open<\/basic>/.test(body))).toBe(false);
    const daveAgain = await phone(nodeB);
    const refresh = await daveAgain.authenticated('REGISTER', `sip:${DOMAIN}`, 'dave', credential('dave'));
    expect(status(refresh)).toBe(200);
    await eventually(
      () => notifies().some((body) => /<basic>open<\/basic>/.test(body)),
      Boolean,
      () => 'dave’s refresh through B did not reach the watcher on the restarted A',
      { ms: 5_000 },
    );
  }, 30_000);
});

describe('in-dialog failover between gateways (-A WITH_GATEWAYS, dispatcher set 2)', () => {
  const TIMEOUT_MS = 3000;
  let kamailio: RunningKamailio;
  let gateway1: UdpSipPhone;
  let gateway2: UdpSipPhone;
  let bob: UdpSipPhone;
  let gateway1Port: number;
  /** What a gateway puts in Contact for its WebSocket client. */
  const ALICE_CONTACT = 'sip:alice@a1b2c3d4.invalid;transport=ws';

  beforeAll(async () => {
    gateway1Port = await freeUdpPort();
    const gateway2Port = await freeUdpPort();
    kamailio = await startKamailio({
      secret: SECRET,
      sipDomain: DOMAIN,
      gateways: [`127.0.0.1:${gateway1Port}`, `127.0.0.1:${gateway2Port}`],
      gatewayPingInterval: 1,
      gatewayTimeoutMs: TIMEOUT_MS,
    });
    gateway1 = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN, port: gateway1Port });
    gateway2 = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN, port: gateway2Port });
    opened.push(gateway1, gateway2);
    bob = await phone(kamailio, () => 200);
    expect(status(await bob.authenticated('REGISTER', `sip:${DOMAIN}`, 'bob', credential('bob')))).toBe(200);
  }, 30_000);

  afterAll(async () => {
    await kamailio?.stop();
  });

  /** Alice (behind `gateway`) calls bob; the gateway record-routes the dialog. */
  async function dialogThrough(gateway: UdpSipPhone) {
    const callId = `dialog-${hex(6)}`;
    const answer = await gateway.authenticated('INVITE', `sip:bob@${DOMAIN}`, 'alice', credential('alice'), {
      callId,
      extra: [`Record-Route: <sip:${gateway.address};lr;gw=${hex(3)}>`, `Contact: <${ALICE_CONTACT}>`],
    });
    expect(status(answer)).toBe(200);
    const invite = bob.requests.find(
      (r) => r.method === 'INVITE' && header(r, 'Call-ID') === callId,
    ) as SipRequest;
    const routes = headers(invite, 'Record-Route').flatMap((value) => value.split(/,\s*(?=<)/));
    return { callId, toTag: tagOf(header(answer, 'To')), fromTag: tagOf(header(invite, 'From')), routes };
  }

  /** Bob hangs up the dialog: his BYE goes to Kamailio along the route set. */
  function bobHangsUp(dialog: Awaited<ReturnType<typeof dialogThrough>>) {
    bob.send(
      bob.request('BYE', ALICE_CONTACT, {
        from: `sip:bob@${DOMAIN}`,
        fromTag: dialog.toTag,
        to: `sip:alice@${DOMAIN}`,
        toTag: dialog.fromTag,
        callId: dialog.callId,
        cseq: 10,
        extra: dialog.routes.map((route) => `Route: ${route}`),
      }),
    );
  }

  const byeAt = (gateway: UdpSipPhone, callId: string) =>
    gateway.requests.find((r) => r.method === 'BYE' && header(r, 'Call-ID') === callId);

  async function byeReaches(gateway: UdpSipPhone, callId: string, ms: number) {
    return eventually(
      () => byeAt(gateway, callId),
      (bye) => bye !== undefined,
      () => `the BYE of ${callId} did not reach ${gateway.address} in ${ms} ms`,
      { ms, everyMs: 10 },
    ) as Promise<SipRequest>;
  }

  it('sends in-dialog requests to the next gateway when the one in Record-Route is gone, probes it back', async () => {
    await eventually(
      () =>
        gateway1.requests.some((r) => r.method === 'OPTIONS') &&
        gateway2.requests.some((r) => r.method === 'OPTIONS'),
      Boolean,
      () => 'Kamailio does not probe both gateways with OPTIONS',
    );
    // Alice registers through gateway 1 (its Path), and two calls are set up through it.
    const registered = await gateway1.authenticated(
      'REGISTER',
      `sip:${DOMAIN}`,
      'alice',
      credential('alice'),
      {
        extra: [`Path: <sip:${gateway1.address};lr>`, 'Supported: path', `Contact: <${ALICE_CONTACT}>`],
      },
    );
    expect(status(registered)).toBe(200);
    const first = await dialogThrough(gateway1);
    const second = await dialogThrough(gateway1);
    // While gateway 1 is up, the BYE goes to it.
    const control = await dialogThrough(gateway1);
    bobHangsUp(control);
    await byeReaches(gateway1, control.callId, 2_000);

    // Gateway 1 goes away. Bob hangs up the first call: no answer from gateway 1 → gateway 2.
    gateway1.close();
    const hungUp = Date.now();
    bobHangsUp(first);
    const bye = await byeReaches(gateway2, first.callId, TIMEOUT_MS + 3_000);
    console.log(
      `BYE toward a dead gateway reached the next one after ${Date.now() - hungUp} ms (timeout ${TIMEOUT_MS} ms)`,
    );
    // Still addressed along the dialog's route: the next gateway sees its peer's Record-Route.
    expect(header(bye, 'Route')).toContain(`127.0.0.1:${gateway1Port}`);
    expect(bye.uri).toBe(ALICE_CONTACT);
    await bob.finalResponse(first.callId, 10);

    // Gateway 1 is now marked down: the second call's BYE goes to gateway 2 without waiting.
    await eventually(
      () => kamailio.log().includes(`gateway down: sip:127.0.0.1:${gateway1Port}`),
      Boolean,
      () => `gateway 1 was not marked down: ${kamailio.log().slice(-2000)}`,
      { ms: 5_000 },
    );
    const again = Date.now();
    bobHangsUp(second);
    await byeReaches(gateway2, second.callId, TIMEOUT_MS);
    const direct = Date.now() - again;
    console.log(`BYE toward a gateway marked down reached the next one after ${direct} ms`);
    expect(direct).toBeLessThan(TIMEOUT_MS);

    // A new call to alice, registered through gateway 1 (Path): the INVITE goes through gateway 2.
    const call = await bob.authenticated('INVITE', `sip:alice@${DOMAIN}`, 'bob', credential('bob'));
    expect(status(call)).toBe(486);
    const invite = gateway2.requests.find(
      (r) => r.method === 'INVITE' && header(r, 'Call-ID') === header(call, 'Call-ID'),
    );
    expect(invite?.uri).toBe(ALICE_CONTACT);
    expect(header(invite as SipRequest, 'Route')).toContain(`127.0.0.1:${gateway1Port}`);

    // Gateway 1 comes back: answered OPTIONS make it active again, and its dialogs go to it.
    gateway1 = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN, port: gateway1Port });
    opened.push(gateway1);
    await eventually(
      () => kamailio.log().includes(`gateway up: sip:127.0.0.1:${gateway1Port}`),
      Boolean,
      () => 'gateway 1 was not probed back up',
      { ms: 10_000 },
    );
    const third = await dialogThrough(gateway1);
    bobHangsUp(third);
    await byeReaches(gateway1, third.callId, 2_000);
    expect(byeAt(gateway2, third.callId)).toBeUndefined();
  }, 60_000);
});

describe('configuration faults found with plain SIP phones (issue 25 item 6)', () => {
  let kamailio: RunningKamailio;

  beforeAll(async () => {
    kamailio = await startKamailio({ secret: SECRET, sipDomain: DOMAIN, presence: true });
  }, 20_000);

  afterAll(async () => {
    await kamailio?.stop();
  });

  it('a watcher whose Contact is its GRUU (as linphone subscribes) gets its NOTIFYs at its registered contact', async () => {
    const watcher = await phone(kamailio);
    const instance = `urn:uuid:${randomBytes(16)
      .toString('hex')
      .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}`;
    const registered = await watcher.authenticated('REGISTER', `sip:${DOMAIN}`, 'erin', credential('erin'), {
      extra: [`Contact: <sip:ua@${watcher.address}>;+sip.instance="<${instance}>"`, 'Supported: gruu'],
    });
    expect(status(registered)).toBe(200);
    const gruu = header(registered, 'Contact')?.match(/pub-gruu="([^"]+)"/)?.[1];
    expect(gruu).toMatch(new RegExp(`^sip:erin@${DOMAIN};gr=`));
    const subscribed = await watcher.authenticated(
      'SUBSCRIBE',
      `sip:frank@${DOMAIN}`,
      'erin',
      credential('erin'),
      {
        extra: [`Contact: <${gruu}>`, 'Event: presence', 'Accept: application/pidf+xml', 'Expires: 600'],
      },
    );
    expect([200, 202]).toContain(status(subscribed));
    const notify = await eventually(
      () => watcher.requests.find((r) => r.method === 'NOTIFY'),
      (found) => found !== undefined,
      () => `no NOTIFY reached the watcher's registered contact: ${kamailio.log().slice(-1500)}`,
      { ms: 5_000 },
    );
    expect(notify?.uri).toBe(`sip:ua@${watcher.address}`);
    // Frank registers: the next NOTIFY (open) takes the same way.
    const frank = await phone(kamailio);
    expect(status(await frank.authenticated('REGISTER', `sip:${DOMAIN}`, 'frank', credential('frank')))).toBe(
      200,
    );
    await eventually(
      () => watcher.requests.some((r) => r.method === 'NOTIFY' && /<basic>open<\/basic>/.test(r.body)),
      Boolean,
      () => 'no NOTIFY with frank open',
      { ms: 5_000 },
    );
  }, 20_000);
});
