import { randomBytes } from 'node:crypto';
import { createSocket, Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import { header, type SipMessage, type SipRequest } from '../packages/gateway/src/sip/message.js';
import { parseSipMessage } from '../packages/gateway/src/sip/parser.js';
import { digestAnswer } from '../packages/gateway/test/support/digest-answer.mjs';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { RawSipClient } from '../packages/gateway/test/support/raw-sip-client.js';
import { addUser, userCommand } from '../packages/gateway/test/support/users.js';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { type Credential, responseTo, type SipRequestOptions, UdpSipPhone } from './support/udp-sip-phone.js';

// Issue 22 in upstream mode, as compose runs it: WebSocket clients reach the bundled Kamailio
// through the gateway, which relays them over UDP. Who may speak as whom, what a call-link guest
// may do, who may send to the gateway's upstream socket, and what revoking a user ends. Raw SIP
// over WebSocket, so that each test sends exactly the request that would abuse a hole. Where the
// gateway is the one meant to refuse (Kamailio cannot know USERS_FILE, and another upstream may
// check nothing), the test asserts that the 403 is the gateway's own (its Warning names ringway).
const SECRET = 'upstream-identity-secret-0123456789';
const DOMAIN = 'ringway.test';
/** SIGN_IN_CREDENTIAL_SECONDS of the gateway: a credential was handed out at its expiry less this. */
const CREDENTIAL_SECONDS = 3600;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/**
 * A credential as the sign-in hands it out. The users were added (changedAt) moments ago, maybe in
 * this very second, and one dated in the second of a change counts as from before it: date it the
 * second after, as the sign-in does.
 */
const ephemeral = (user: string): Credential =>
  issueEphemeralCredential(SECRET, user, CREDENTIAL_SECONDS, Date.now() + 1000);
const statusOf = (m: SipMessage) => (m.kind === 'response' ? m.status : 0);
/** `403 gateway` when the gateway refused by itself, `403 upstream` when the 403 came from Kamailio. */
const outcome = (m: SipMessage) =>
  `${statusOf(m)} ${/^\d{3} ringway /.test(header(m, 'Warning') ?? '') ? 'gateway' : 'upstream'}`;
const cseqNumber = (m: SipMessage) => (header(m, 'CSeq') ?? '').trim().split(/\s+/)[0];
const userOf = (nameAddr: string | undefined) => /<sips?:([^@>;]+)@/.exec(nameAddr ?? '')?.[1];

interface RequestOptions extends SipRequestOptions {
  /** The Via branch (default: a random one). */
  branch?: string;
  /** A credential header sent before the real answer to the challenge (Phone.send). */
  decoy?: string;
}

/**
 * A credential of `user` for another realm than Kamailio's: Kamailio takes the credential of its
 * own realm, wherever it is, so a gateway reading only the first one would check this one instead.
 */
const decoyFor = (user: string, uri: string) =>
  `Digest username="${user}", realm="elsewhere.invalid", nonce="0", uri="${uri}", response="${'0'.repeat(32)}"`;

/** A request as a WebSocket client writes it. */
function wsRequest(method: string, uri: string, options: RequestOptions): string {
  const body = options.body ?? '';
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/WS raw.invalid;branch=${options.branch ?? `z9hG4bK${hex(8)}`}`,
    'Max-Forwards: 70',
    `From: <${options.from}>;tag=${options.fromTag ?? hex(4)}`,
    `To: <${options.to ?? uri}>${options.toTag ? `;tag=${options.toTag}` : ''}`,
    `Call-ID: ${options.callId ?? hex(8)}`,
    `CSeq: ${options.cseq ?? 1} ${method}`,
    ...(options.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/**
 * A WebSocket client of the gateway that speaks as `user` with `credential`: sends requests,
 * answers Kamailio's challenge, and answers every request it receives (486 to an INVITE, 200 to
 * anything else but an ACK), keeping them in `requests`.
 */
class Phone {
  readonly requests: SipRequest[] = [];
  readonly contact = `<sip:${hex(4)}@raw.invalid;transport=ws>`;

  private constructor(
    readonly client: RawSipClient,
    readonly user: string,
    readonly credential: Credential,
  ) {
    client.socket.on('message', (data: Buffer) => {
      let message: SipMessage;
      try {
        message = parseSipMessage(data.toString());
      } catch {
        return;
      }
      if (message.kind !== 'request') return;
      this.requests.push(message);
      if (message.method !== 'ACK') client.send(responseTo(message, message.method === 'INVITE' ? 486 : 200));
    });
  }

  static async connect(user: string, credential: Credential = ephemeral(user)): Promise<Phone> {
    const phone = new Phone(await RawSipClient.connect(gateway.wsUrl), user, credential);
    phones.push(phone);
    return phone;
  }

  get aor(): string {
    return `sip:${this.user}@${DOMAIN}`;
  }

  /**
   * Sends `method` to `uri` (From this phone's user unless `options` say otherwise), answers a
   * 401/407 with `credential` and returns the final response.
   */
  async send(
    method: string,
    uri: string,
    options: RequestOptions = {},
    credential: Credential = this.credential,
  ): Promise<SipMessage> {
    const base: RequestOptions = {
      from: this.aor,
      ...(method === 'REGISTER' ? { to: this.aor } : {}),
      ...(/^(INVITE|SUBSCRIBE)$/.test(method) ? { extra: [`Contact: ${this.contact}`] } : {}),
      ...options,
      callId: options.callId ?? `${method.toLowerCase()}-${hex(8)}`,
      fromTag: options.fromTag ?? hex(4),
    };
    const first = await this.#transaction(method, uri, { ...base, cseq: 1 });
    if (statusOf(first) !== 401 && statusOf(first) !== 407) return first;
    const [challengeName, answerName] =
      statusOf(first) === 401
        ? ['WWW-Authenticate', 'Authorization']
        : ['Proxy-Authenticate', 'Proxy-Authorization'];
    const answer = digestAnswer(header(first, challengeName) as string, { method, uri }, credential);
    const decoy = options.decoy ? [`${answerName}: ${options.decoy}`] : [];
    return this.#transaction(method, uri, {
      ...base,
      cseq: 2,
      extra: [...(base.extra ?? []), ...decoy, `${answerName}: ${answer}`],
    });
  }

  /** A MESSAGE to `user` of the domain; its final response. */
  message(user: string, options: RequestOptions = {}): Promise<SipMessage> {
    return this.send('MESSAGE', `sip:${user}@${DOMAIN}`, {
      ...options,
      extra: ['Content-Type: text/plain', ...(options.extra ?? [])],
      body: options.body ?? `hello from ${this.user}`,
    });
  }

  /** REGISTERs this phone's contact (with `options`, e.g. another To) and returns the final response. */
  register(options: RequestOptions = {}, credential: Credential = this.credential): Promise<SipMessage> {
    return this.send(
      'REGISTER',
      `sip:${DOMAIN}`,
      { ...options, extra: options.extra ?? [`Contact: ${this.contact}`, 'Expires: 300'] },
      credential,
    );
  }

  /** Registered as its own user: 200. */
  async registered(): Promise<this> {
    expect(outcome(await this.register())).toBe('200 upstream');
    this.#registered = true;
    return this;
  }

  #registered = false;

  /** Removes its registration (if it made one) and closes its connection. */
  async stop(): Promise<void> {
    if (this.#registered && this.client.socket.readyState === this.client.socket.OPEN) {
      await this.register({ extra: [`Contact: ${this.contact}`, 'Expires: 0'] }).catch(() => undefined);
    }
    this.client.close();
  }

  /** The request that arrived with this Call-ID, waited for. */
  async arrived(callId: string, what: string): Promise<SipRequest> {
    const found = await eventually(
      () => this.requests.find((r) => header(r, 'Call-ID') === callId),
      (r) => r !== undefined,
      () => `${this.user} never received ${what}`,
      { ms: 5000, everyMs: 10 },
    );
    return found as SipRequest;
  }

  /** One transaction; a non-2xx final answer to an INVITE is acknowledged on the INVITE's branch. */
  async #transaction(method: string, uri: string, options: RequestOptions): Promise<SipMessage> {
    const branch = `z9hG4bK${hex(8)}`;
    this.client.send(wsRequest(method, uri, { ...options, branch }));
    const response = await this.client.next(
      (m) =>
        m.kind === 'response' &&
        m.status >= 200 &&
        header(m, 'Call-ID') === options.callId &&
        cseqNumber(m) === String(options.cseq),
      5000,
    );
    if (method === 'INVITE' && statusOf(response) >= 300) {
      this.client.send(
        wsRequest('ACK', uri, {
          ...options,
          branch,
          toTag: /;\s*tag=([^;>\s]+)/i.exec(header(response, 'To') ?? '')?.[1] as string,
          extra: [],
          body: '',
        }),
      );
    }
    return response;
  }
}

let kamailio: RunningKamailio;
let gateway: RunningGateway;
let usersFolder: string;
let usersFile: string;
/** The gateway's upstream UDP port (UPSTREAM_LOCAL_PORT), where Kamailio's requests for clients arrive. */
let upstreamPort: number;
const phones: Phone[] = [];
const udpPhones: UdpSipPhone[] = [];
const PASSWORDS = {
  alice: 'alice-password-0123',
  dave: 'dave-password-0123',
  dave2: 'dave-new-password-4567',
};

/**
 * Everything the gateway's upstream socket sends (to Kamailio), read off node:dgram in this
 * process: what the gateway let through, not only what Kamailio then let through.
 */
const sentUpstream: string[] = [];
const originalSend = Socket.prototype.send;

beforeAll(async () => {
  usersFolder = mkdtempSync(join(tmpdir(), 'ringway-upstream-identity-'));
  usersFile = join(usersFolder, 'users.json');
  // With USERS_FILE an ephemeral credential speaks only for someone in it (credentials.ts).
  for (const user of ['bob', 'mallory', 'stranger']) addUser(usersFile, user, `${user}-password-0123`);
  addUser(usersFile, 'alice', PASSWORDS.alice);
  addUser(usersFile, 'dave', PASSWORDS.dave);
  upstreamPort = await freeUdpPort();
  Socket.prototype.send = function (this: Socket, message: unknown, ...rest: unknown[]) {
    let port = 0;
    try {
      port = this.address().port;
    } catch {}
    if (port === upstreamPort) sentUpstream.push(String(message));
    return (originalSend as unknown as (...args: unknown[]) => void).call(this, message, ...rest);
  } as typeof Socket.prototype.send;
  kamailio = await startKamailio({ secret: SECRET, sipDomain: DOMAIN });
  gateway = await startUpstreamGateway(`udp:${kamailio.udp}`, {
    AUTH_SECRET: SECRET,
    USERS_FILE: usersFile,
    UPSTREAM_LOCAL_PORT: String(upstreamPort),
    SIGN_IN_CREDENTIAL_SECONDS: String(CREDENTIAL_SECONDS),
  });
}, 30_000);

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  for (const p of udpPhones.splice(0)) p.close();
});

afterAll(async () => {
  Socket.prototype.send = originalSend;
  await gateway?.close();
  await kamailio?.stop();
  rmSync(usersFolder, { recursive: true, force: true });
});

interface SignedIn {
  credential: Credential;
  renewToken: string;
}

async function signIn(user: string, password: string): Promise<SignedIn> {
  const reply = await gateway.app.inject({
    method: 'POST',
    url: '/api/sign-in',
    payload: { user, password },
  });
  expect(reply.statusCode).toBe(200);
  const body = reply.json() as {
    credentials: { authorizationUsername: string; authorizationPassword: string };
    renewToken: string;
  };
  return {
    credential: {
      username: body.credentials.authorizationUsername,
      password: body.credentials.authorizationPassword,
    },
    renewToken: body.renewToken,
  };
}

function renew(renewToken: string) {
  return gateway.app.inject({ method: 'POST', url: '/api/sign-in/renew', payload: { renewToken } });
}

describe('upstream mode (gateway → Kamailio over UDP): a credential speaks for its own user only', () => {
  it('refuses (403) mallory’s REGISTER of bob’s address with her own credential, binding or removing; bob still gets alice’s MESSAGE, mallory none', async () => {
    const bob = await (await Phone.connect('bob')).registered();
    const mallory = await (await Phone.connect('mallory')).registered();
    const asBob = { to: bob.aor };
    expect(outcome(await mallory.register(asBob))).toBe('403 gateway');
    expect(outcome(await mallory.register({ ...asBob, extra: ['Contact: *', 'Expires: 0'] }))).toBe(
      '403 gateway',
    );
    // Nor from the same connection with From bob as well, nor behind a credential of bob's for
    // another realm in front of her own.
    expect(outcome(await mallory.register({ ...asBob, from: bob.aor }))).toBe('403 gateway');
    expect(outcome(await mallory.register({ ...asBob, decoy: decoyFor('bob', `sip:${DOMAIN}`) }))).toBe(
      '403 gateway',
    );

    const alice = await Phone.connect('alice');
    const forBob = `for-bob-${hex(6)}`;
    expect(outcome(await alice.message('bob', { callId: forBob }))).toBe('200 upstream');
    await bob.arrived(forBob, 'alice’s MESSAGE');
    // Witness on mallory's own connection: a later MESSAGE for her arrives, bob's never did.
    const forMallory = `for-mallory-${hex(6)}`;
    expect(outcome(await alice.message('mallory', { callId: forMallory }))).toBe('200 upstream');
    await mallory.arrived(forMallory, 'alice’s MESSAGE for her');
    expect(mallory.requests.map((r) => header(r, 'Call-ID'))).toEqual([forMallory]);
  });

  it('refuses (403) mallory’s MESSAGE and INVITE From ceo with her own Proxy-Authorization; bob gets nothing from “ceo”', async () => {
    const bob = await (await Phone.connect('bob')).registered();
    const mallory = await Phone.connect('mallory');
    const asCeo = { from: `sip:ceo@${DOMAIN}` };
    expect(outcome(await mallory.message('bob', asCeo))).toBe('403 gateway');
    expect(outcome(await mallory.send('INVITE', bob.aor, asCeo))).toBe('403 gateway');
    // Her credential in Authorization, where a PBX answering for itself (Asterisk's 401) wants
    // it: refused at once, before any challenge (the first answer is the gateway's 403).
    const authorization = digestAnswer(
      'Digest realm="ringway.test", nonce="0"',
      { method: 'MESSAGE', uri: bob.aor },
      mallory.credential,
    );
    const callId = `as-ceo-${hex(6)}`;
    mallory.client.send(
      wsRequest('MESSAGE', bob.aor, {
        ...asCeo,
        callId,
        extra: ['Content-Type: text/plain', `Authorization: ${authorization}`],
        body: 'hello',
      }),
    );
    const first = await mallory.client.next((m) => m.kind === 'response' && header(m, 'Call-ID') === callId);
    expect(outcome(first)).toBe('403 gateway');
    // Witness: her MESSAGE as herself does reach bob, after the refused ones would have.
    const own = `own-${hex(6)}`;
    expect(outcome(await mallory.message('bob', { callId: own }))).toBe('200 upstream');
    await bob.arrived(own, 'mallory’s MESSAGE as herself');
    expect(bob.requests.map((r) => `${r.method} ${userOf(header(r, 'From'))}`)).toEqual(['MESSAGE mallory']);
  });
});

describe('upstream mode: a voicemail box is watched by its owner only', () => {
  it('refuses (403) mallory’s message-summary SUBSCRIBE for bob’s box, passes her own to the upstream', async () => {
    const mallory = await Phone.connect('mallory');
    const summary = { extra: [`Contact: ${mallory.contact}`, 'Event: message-summary'] };
    expect(outcome(await mallory.send('SUBSCRIBE', `sip:bob@${DOMAIN}`, summary))).toBe('403 gateway');
    // Witness that the rule looked at the package and the owner, not at SUBSCRIBE: her own box's
    // subscription and her presence watch of bob reach Kamailio, which answers them itself.
    expect(outcome(await mallory.send('SUBSCRIBE', mallory.aor, summary))).toMatch(/ upstream$/);
    expect(
      outcome(
        await mallory.send('SUBSCRIBE', `sip:bob@${DOMAIN}`, {
          extra: [`Contact: ${mallory.contact}`, 'Event: presence'],
        }),
      ),
    ).toMatch(/ upstream$/);
  });
});

describe('upstream mode: call-link guests', () => {
  async function callLink() {
    const alice = await signIn('alice', PASSWORDS.alice);
    const created = await gateway.app.inject({
      method: 'POST',
      url: '/api/sessions',
      headers: { authorization: `Bearer ${alice.renewToken}` },
    });
    expect(created.statusCode).toBe(201);
    const link = created.json() as {
      code: string;
      credentials: { uri: string; authorizationUsername: string; authorizationPassword: string };
    };
    const joined = await gateway.app.inject({ method: 'POST', url: `/api/sessions/${link.code}/join` });
    expect(joined.statusCode).toBe(200);
    const peer = (joined.json() as { credentials: typeof link.credentials }).credentials;
    const guest = (c: typeof link.credentials) =>
      Phone.connect(userOf(`<${c.uri}>`) as string, {
        username: c.authorizationUsername,
        password: c.authorizationPassword,
      });
    return { a: await guest(link.credentials), b: await guest(peer) };
  }

  it('refuses to create a call link without a sign-in (401)', async () => {
    const anonymous = await gateway.app.inject({ method: 'POST', url: '/api/sessions' });
    expect(anonymous.statusCode).toBe(401);
    const forged = await gateway.app.inject({
      method: 'POST',
      url: '/api/sessions',
      headers: { authorization: 'Bearer YWxpY2U.1700000000.forged' },
    });
    expect(forged.statusCode).toBe(401);
  });

  it('lets a guest register itself and call the other guest, and refuses (403) everything else either way', async () => {
    const bob = await (await Phone.connect('bob')).registered();
    const { a, b } = await callLink();
    expect(a.user).toMatch(/^rw-[0-9a-f]{32}-a$/);
    expect(b.user).toBe(a.user.replace(/-a$/, '-b'));
    await a.registered();
    await b.registered();

    expect(
      outcome(
        await a.send('SUBSCRIBE', bob.aor, {
          extra: [
            `Contact: ${a.contact}`,
            'Event: dialog',
            'Accept: application/dialog-info+xml',
            'Expires: 60',
          ],
        }),
      ),
    ).toBe('403 gateway');
    expect(outcome(await a.message('bob'))).toBe('403 gateway');
    expect(outcome(await a.send('INVITE', bob.aor))).toBe('403 gateway');
    expect(outcome(await a.send('INVITE', `sip:600@${DOMAIN}`))).toBe('403 gateway');
    expect(outcome(await bob.send('INVITE', a.aor))).toBe('403 gateway');
    expect(outcome(await bob.message(a.user))).toBe('403 gateway');

    // The one thing a guest may start: a call to the other party of its link.
    const call = `guest-call-${hex(6)}`;
    expect(outcome(await a.send('INVITE', b.aor, { callId: call }))).toBe('486 upstream');
    const invite = await b.arrived(call, 'the INVITE of the other guest');
    expect(userOf(header(invite, 'From'))).toBe(a.user);

    // Witness for bob: alice's MESSAGE arrives, nothing of the guest's came before it.
    const alice = await Phone.connect('alice');
    const forBob = `for-bob-${hex(6)}`;
    expect(outcome(await alice.message('bob', { callId: forBob }))).toBe('200 upstream');
    await bob.arrived(forBob, 'alice’s MESSAGE');
    expect(bob.requests.map((r) => `${r.method} ${userOf(header(r, 'From'))}`)).toEqual(['MESSAGE alice']);
    expect(a.requests).toEqual([]);
    expect(b.requests.map((r) => r.method).filter((m) => m !== 'ACK')).toEqual(['INVITE']);
  });
});

describe('upstream mode: the gateway’s upstream UDP socket hears only the upstream', () => {
  it('drops a datagram from another loopback socket that names bob’s flow (Route, contact, branch): bob’s connection never sees it', async () => {
    const bob = await (await Phone.connect('bob')).registered();
    const flow = gateway.app.sip.flows.all().find((f) => f.authenticatedUser === 'bob');
    expect(flow).toBeDefined();
    const flowId = (flow as { id: string }).id;
    const contactUri = /<([^>]+)>/.exec(bob.contact)?.[1] as string;

    const spoofer = createSocket('udp4');
    await new Promise<void>((resolve) => spoofer.bind(0, '127.0.0.1', resolve));
    const from = `127.0.0.1:${spoofer.address().port}`;
    const spoofed = {
      routed: `spoof-routed-${hex(6)}`,
      contact: `spoof-contact-${hex(6)}`,
      response: `spoof-response-${hex(6)}`,
    };
    const spoof = (lines: string[], body = 'Wire the money today. — the CEO') =>
      [...lines, 'Content-Type: text/plain', `Content-Length: ${Buffer.byteLength(body)}`, '', body].join(
        '\r\n',
      );
    const datagrams = [
      // A new request, Routed to bob's flow as Kamailio routes along his Path.
      spoof([
        `MESSAGE ${contactUri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${from};branch=z9hG4bK${hex(8)};rport`,
        `Route: <sip:${flowId}@127.0.0.1:${upstreamPort};lr>`,
        'Max-Forwards: 70',
        `From: <sip:ceo@${DOMAIN}>;tag=${hex(4)}`,
        `To: <${bob.aor}>`,
        `Call-ID: ${spoofed.routed}`,
        'CSeq: 1 MESSAGE',
      ]),
      // An in-dialog request naming bob's contact (flow recovery finds his connection by it).
      spoof([
        `MESSAGE ${contactUri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${from};branch=z9hG4bK${hex(8)};rport`,
        'Max-Forwards: 70',
        `From: <sip:ceo@${DOMAIN}>;tag=${hex(4)}`,
        `To: <${bob.aor}>;tag=${hex(4)}`,
        `Call-ID: ${spoofed.contact}`,
        'CSeq: 7 MESSAGE',
      ]),
      // A response on a branch that names bob's flow.
      spoof(
        [
          'SIP/2.0 200 OK',
          `Via: SIP/2.0/UDP 127.0.0.1:${upstreamPort};branch=z9hG4bK.${flowId}.${hex(8)};rport`,
          `Via: SIP/2.0/WS raw.invalid;branch=z9hG4bK${hex(8)}`,
          `From: <${bob.aor}>;tag=${hex(4)}`,
          `To: <sip:ceo@${DOMAIN}>;tag=${hex(4)}`,
          `Call-ID: ${spoofed.response}`,
          'CSeq: 1 INVITE',
        ],
        '',
      ),
    ];
    try {
      for (const datagram of datagrams)
        await new Promise<void>((resolve, reject) =>
          spoofer.send(datagram, upstreamPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
        );
    } finally {
      spoofer.close();
    }

    // Witness: a MESSAGE of alice, sent after the datagrams, reaches bob through Kamailio.
    const alice = await Phone.connect('alice');
    const legit = `legit-${hex(6)}`;
    expect(outcome(await alice.message('bob', { callId: legit }))).toBe('200 upstream');
    await bob.arrived(legit, 'alice’s MESSAGE');
    const seen = [...bob.client.received, ...bob.requests].map((m) => header(m, 'Call-ID'));
    for (const callId of Object.values(spoofed)) expect(seen).not.toContain(callId);
    expect(bob.client.rawFrames.join('\n')).not.toContain('the CEO');
  });
});

describe('upstream mode: in-dialog requests follow the gateway’s own Record-Route only', () => {
  it('does not relay an ACK with a To tag whose Route names Kamailio and then another loopback socket, registered or not', async () => {
    // A plain phone registered with Kamailio directly (not through the gateway), answering 200.
    const carol = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN, answer: () => 200 });
    udpPhones.push(carol);
    const registration = await carol.authenticated('REGISTER', `sip:${DOMAIN}`, 'carol', ephemeral('carol'), {
      extra: [`Contact: <sip:carol@${carol.address}>`, 'Expires: 300'],
    });
    expect(statusOf(registration)).toBe(200);
    const alice = await (await Phone.connect('alice')).registered();
    const stranger = await Phone.connect('stranger');
    const strayCalls: string[] = [];
    const routes = [
      [`Route: <sip:${kamailio.udp};lr>, <sip:${carol.address};lr>`],
      [`Route: <sip:${kamailio.udp};lr>`, `Route: <sip:${carol.address};lr>`],
      [`Route: <sip:${carol.address};lr>`],
    ];
    for (const phone of [stranger, alice]) {
      for (const extra of routes) {
        const callId = `stray-${hex(6)}`;
        strayCalls.push(callId);
        const dialog = { from: phone.aor, to: `sip:carol@${DOMAIN}`, toTag: hex(4), callId, extra };
        phone.client.send(wsRequest('ACK', `sip:carol@${carol.address}`, { ...dialog, cseq: 1 }));
        // A BYE along the same Route is answered, by the gateway itself.
        expect(outcome(await phone.send('BYE', `sip:carol@${carol.address}`, { ...dialog, cseq: 2 }))).toBe(
          '403 gateway',
        );
      }
    }
    // Witness: a MESSAGE of alice, sent after them through the gateway and Kamailio, reaches carol.
    const witness = `witness-${hex(6)}`;
    expect(outcome(await alice.message('carol', { callId: witness }))).toBe('200 upstream');
    expect(carol.requests.map((r) => `${r.method} ${header(r, 'Call-ID')}`)).toEqual([`MESSAGE ${witness}`]);
    // And none of them left the gateway toward Kamailio at all.
    for (const callId of strayCalls) expect(sentUpstream.filter((d) => d.includes(callId))).toEqual([]);
    expect(sentUpstream.some((d) => d.includes(witness))).toBe(true);
  });
});

describe('upstream mode: removing someone from USERS_FILE ends their credentials at the gateway', () => {
  it('closes dave’s connection, refuses his old credential (403) and renewal (401), also once he is added again; a new sign-in works', async () => {
    const first = await signIn('dave', PASSWORDS.dave);
    const handedOutAt = Number(first.credential.username.split(':')[0]) - CREDENTIAL_SECONDS;
    const dave = await (await Phone.connect('dave', first.credential)).registered();
    let closed: { code: number } | undefined;
    void dave.client.closed.then((close) => {
      closed = close;
    });

    expect(userCommand(usersFile, ['remove', 'dave']).status).toBe(0);
    // The gateway looks at USERS_FILE every second.
    await eventually(
      () => closed,
      (close) => close !== undefined,
      () => 'the gateway left dave’s connection open for 5 s',
      { ms: 5000, everyMs: 20 },
    );
    expect(closed?.code).toBe(1008);

    const again = await Phone.connect('dave', first.credential);
    expect(outcome(await again.register())).toBe('403 gateway');
    expect(outcome(await again.message('alice'))).toBe('403 gateway');
    // Nor with another credential in front of it, which the gateway would read and Kamailio skip:
    // a username `dave` that is no ephemeral one, or a Basic one.
    expect(outcome(await again.register({ decoy: decoyFor('dave', `sip:${DOMAIN}`) }))).toBe('403 gateway');
    expect(outcome(await again.register({ decoy: 'Basic ZGF2ZTpkYXZl' }))).toBe('403 gateway');
    expect(outcome(await again.message('alice', { decoy: decoyFor('dave', `sip:alice@${DOMAIN}`) }))).toBe(
      '403 gateway',
    );
    expect((await renew(first.renewToken)).statusCode).toBe(401);

    // Added again (a new password), in a later second than the first sign-in: changedAt, in whole
    // seconds, must be later than the moment the old credential was handed out.
    await eventually(
      () => Math.floor(Date.now() / 1000),
      (second) => second > handedOutAt,
      () => 'the clock did not move on',
      { ms: 2000, everyMs: 20 },
    );
    userCommand(usersFile, ['add', 'dave'], PASSWORDS.dave2);
    // Witness that the gateway has read the file again: dave is back in alice's directory.
    const alice = await signIn('alice', PASSWORDS.alice);
    await eventually(
      async () => ((await renew(alice.renewToken)).json() as { directory: string[] }).directory,
      (directory) => directory.includes('dave'),
      () => 'the gateway did not read dave back from USERS_FILE',
      { ms: 5000, everyMs: 250 },
    );
    expect(outcome(await again.register())).toBe('403 gateway');
    expect((await renew(first.renewToken)).statusCode).toBe(401);
    const old = await gateway.app.inject({
      method: 'POST',
      url: '/api/sign-in',
      payload: { user: 'dave', password: PASSWORDS.dave },
    });
    expect(old.statusCode).toBe(401);

    const second = await signIn('dave', PASSWORDS.dave2);
    const renewed = await Phone.connect('dave', second.credential);
    await renewed.registered();
    expect((await renew(second.renewToken)).statusCode).toBe(200);
  }, 20_000);
});
