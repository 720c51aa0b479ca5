import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import { header, headers, type SipMessage } from '../packages/gateway/src/sip/message.js';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { UdpSipPhone } from './support/udp-sip-phone.js';

// Issue 25 item 6: faults of kamailio-config/kamailio.cfg found with plain SIP phones, here with
// -A WITH_PRESENCE and a SIP_DOMAIN that is an IP address (127.0.0.1), the phones on 127.0.0.1
// too, each on a port of its own.
const SECRET = 'kamailio-config-faults-secret-0123456789';
const DOMAIN = '127.0.0.1';
let kamailio: RunningKamailio;
const phones: UdpSipPhone[] = [];

const credential = (user: string) => issueEphemeralCredential(SECRET, user, 300);
const status = (m: SipMessage) => (m.kind === 'response' ? m.status : 0);

/** A plain UDP phone on 127.0.0.1 registered as `user`, answering calls with `answer`. */
async function registered(user: string, answer = 200): Promise<UdpSipPhone> {
  const phone = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN, answer: () => answer });
  phones.push(phone);
  const reply = await phone.authenticated('REGISTER', `sip:${DOMAIN}`, user, credential(user), {
    extra: ['Expires: 300'],
  });
  expect(status(reply)).toBe(200);
  return phone;
}

/** `caller` calls `callee` (answered 200): the dialog's values for its ACK and BYE. */
async function call(caller: UdpSipPhone, from: string, to: string) {
  const answer = await caller.authenticated('INVITE', `sip:${to}@${DOMAIN}`, from, credential(from), {
    body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n',
    extra: ['Content-Type: application/sdp'],
  });
  expect(status(answer)).toBe(200);
  return {
    remote: header(answer, 'Contact')?.match(/<([^>]+)>/)?.[1] as string,
    from: `sip:${from}@${DOMAIN}`,
    fromTag: /;tag=([^;]+)/.exec(header(answer, 'From') ?? '')?.[1] as string,
    to: `sip:${to}@${DOMAIN}`,
    toTag: /;tag=([^;]+)/.exec(header(answer, 'To') ?? '')?.[1] as string,
    callId: header(answer, 'Call-ID') as string,
    extra: headers(answer, 'Record-Route')
      .reverse()
      .map((r) => `Route: ${r}`),
  };
}

beforeAll(async () => {
  kamailio = await startKamailio({ secret: SECRET, sipDomain: DOMAIN, presence: true });
}, 20_000);

afterAll(async () => {
  for (const phone of phones) phone.close();
  await kamailio?.stop();
});

describe('kamailio.cfg with an IP address as SIP_DOMAIN and presence on', () => {
  it('an ACK and a BYE to a phone on another port of that address reach the phone (not "myself")', async () => {
    const bob = await registered('bob');
    const alice = await registered('alice');
    const dialog = await call(alice, 'alice', 'bob');
    expect(dialog.remote).toBe(`sip:ua@${bob.address}`);
    alice.send(alice.request('ACK', dialog.remote, { ...dialog, cseq: 2 }));
    alice.send(alice.request('BYE', dialog.remote, { ...dialog, cseq: 3 }));
    const bye = await alice.finalResponse(dialog.callId, 3);
    expect(`${status(bye)} ${bye.kind === 'response' ? bye.reason : ''}`).toBe('200 OK');
    await eventually(
      () => bob.requests.map((r) => r.method),
      (methods) => methods.includes('ACK') && methods.includes('BYE'),
      (methods) => `bob received ${methods.join(', ')}`,
    );
  });

  it('a presence watcher sees a user on the phone during a call, and plain open after it', async () => {
    const dave = await registered('dave');
    const erin = await registered('erin');
    const watcher = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN });
    phones.push(watcher);
    expect([200, 202]).toContain(await watcher.watchPresence('dave', 'carol', credential('carol')));
    const notifies = () => watcher.presenceDocuments();
    const onThePhone = (body: string) => /<rpid:on-the-phone\s*\/>/.test(body) && /On the phone/.test(body);
    await eventually(
      notifies,
      (bodies) => bodies.some((body) => /<basic>open<\/basic>/.test(body)),
      (bodies) => `no NOTIFY with dave open: ${bodies.join(' | ')}`,
    );
    expect(notifies().some(onThePhone)).toBe(false);

    const dialog = await call(erin, 'erin', 'dave');
    erin.send(erin.request('ACK', dialog.remote, { ...dialog, cseq: 2 }));
    const since = Date.now();
    await eventually(
      () => notifies().at(-1) ?? '',
      (body) => onThePhone(body) && /<basic>open<\/basic>/.test(body),
      (body) => `the last NOTIFY during the call: ${body}\n${kamailio.log().slice(-3000)}`,
      { ms: 5000 },
    );
    const busyMs = Date.now() - since;
    const during = notifies().length;

    erin.send(erin.request('BYE', dialog.remote, { ...dialog, cseq: 3 }));
    expect(status(await erin.finalResponse(dialog.callId, 3))).toBe(200);
    await eventually(
      () => notifies().at(-1) ?? '',
      (body) => notifies().length > during && !onThePhone(body) && /<basic>open<\/basic>/.test(body),
      (body) => `the last NOTIFY after the call: ${body}`,
      { ms: 5000 },
    );
    console.log(`call answered → watcher sees on-the-phone after ${busyMs} ms`);
    expect(dave.requests.some((r) => r.method === 'BYE')).toBe(true);
  }, 20_000);
});

// route[MEDIA] with -A WITH_RTPENGINE: an offer from WebRTC toward plain RTP that rtpengine does
// not bridge (it does not answer) is refused with 503, not sent on as it is (a PBX would answer
// 488, and the page would say "no common codec" for what is a media relay that failed).
describe('Kamailio with an rtpengine that does not answer', () => {
  let lonely: RunningKamailio;
  let pbx: UdpSipPhone;
  const caller: UdpSipPhone[] = [];

  beforeAll(async () => {
    const silent = await UdpSipPhone.open('127.0.0.1:9', { domain: 'ringway.test' });
    pbx = silent;
    lonely = await startKamailio({
      secret: SECRET,
      sipDomain: 'ringway.test',
      // A loopback port where nothing answers rtpengine's control protocol.
      rtpengine: 'udp:127.0.0.1:9',
      pbx: pbx.address,
    });
  }, 30_000);

  afterAll(async () => {
    for (const phone of caller) phone.close();
    pbx?.close();
    await lonely?.stop();
  });

  it('answers a WebRTC offer toward the PBX with 503 Media relay unavailable; the PBX gets nothing', async () => {
    const phone = await UdpSipPhone.open(lonely.udp, { domain: 'ringway.test' });
    caller.push(phone);
    const answer = await phone.authenticated('INVITE', 'sip:600@ringway.test', 'carol', credential('carol'), {
      body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n',
      extra: ['Content-Type: application/sdp'],
    });
    expect(status(answer)).toBe(503);
    expect(answer.kind === 'response' ? answer.reason : '').toBe('Media relay unavailable');
    // Kamailio decided before this answer: nothing reached the PBX.
    expect(await pbx.got('INVITE')).toBe(false);
  }, 30_000);
});
