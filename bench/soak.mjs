// npm run soak -- [--clients N] [--minutes M] [--message-every S] [--malloc glibc|jemalloc]
// Issue 11's soak: N clients with ephemeral credentials register (digest), refresh their
// registrations and send each other MESSAGEs for M minutes through the built gateway in its own
// process (started as bench/fuzz.mjs starts it: --inspect on loopback for forced GCs, jemalloc
// when installed). Prints the RSS slope, event-loop delay p99 (from /metrics), lost messages (must
// be 0), and RSS after forced GCs once the clients have gone, then settled; ends with one JSON line.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { issueEphemeralCredential } from '../packages/gateway/dist/index.js';
import { digestAnswer } from '../packages/gateway/test/support/digest-answer.mjs';
import { freeTcpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { allocatorEnv, JEMALLOC } from './memory/allocators.mjs';
import { startInspectedGateway } from './memory/inspected-gateway.mjs';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '2000' },
    minutes: { type: 'string', default: '10' },
    'message-every': { type: 'string', default: '10' },
    malloc: { type: 'string', default: JEMALLOC ? 'jemalloc' : 'glibc' },
  },
});
const CLIENTS = Number(values.clients);
const DURATION_MS = Number(values.minutes) * 60_000;
const MESSAGE_EVERY_MS = Number(values['message-every']) * 1000;
const EXPIRES = 60;
const SECRET = randomBytes(24).toString('base64');
const ADMIN_TOKEN = randomBytes(16).toString('hex');
const DOMAIN = 'ringway.test';

const port = await freeTcpPort();
const gateway = await startInspectedGateway({
  port,
  adminToken: ADMIN_TOKEN,
  env: {
    ...allocatorEnv(values.malloc),
    SIP_DOMAIN: DOMAIN,
    AUTH_SECRET: SECRET,
    MAX_CONNECTIONS_PER_IP: String(CLIENTS + 100),
    REGISTER_MIN_EXPIRES: String(EXPIRES),
  },
});
const measured = async () => {
  await gateway.collectGarbage();
  return { ...(await gateway.memory()), ...(await gateway.scrape()) };
};
const rssBefore = await measured();

const CRLF = '\r\n';
const request = (method, uri, lines, body = '') =>
  [`${method} ${uri} SIP/2.0`, ...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join(CRLF);
const headerOf = (text, name) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(text)?.[1]?.trim();

const stats = { sent: 0, delivered: 0, accepted: 0, registerFailures: 0, reconnects: 0 };
const delivered = new Set();

class SoakClient {
  constructor(index) {
    this.user = `soak${index}`;
    this.callId = `reg-${this.user}-${randomBytes(4).toString('hex')}`;
    this.cseq = 0;
    this.pending = new Map();
  }

  open() {
    return new Promise((resolve, reject) => {
      this.socket = new WebSocket(`ws://127.0.0.1:${port}/sip`, 'sip', { perMessageDeflate: false });
      this.socket.on('message', (data) => this.#onMessage(data.toString()));
      this.socket.once('error', reject);
      this.socket.once('open', resolve);
    });
  }

  /** REGISTER, answering the 401 challenge with a fresh ephemeral credential. */
  async register() {
    const credential = issueEphemeralCredential(SECRET, this.user, 3600);
    const send = (extra) => {
      this.cseq += 1;
      const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
      this.socket.send(
        request(`REGISTER`, `sip:${DOMAIN}`, [
          `Via: SIP/2.0/WS ${this.user}.invalid;branch=${branch}`,
          'Max-Forwards: 70',
          `From: <sip:${this.user}@${DOMAIN}>;tag=${this.user}`,
          `To: <sip:${this.user}@${DOMAIN}>`,
          `Call-ID: ${this.callId}`,
          `CSeq: ${this.cseq} REGISTER`,
          `Contact: <sip:${this.user}@${this.user}.invalid;transport=ws>`,
          `Expires: ${EXPIRES}`,
          ...extra,
        ]),
      );
      return this.#answer(branch);
    };
    const challenge = await send([]);
    const value = headerOf(challenge, 'WWW-Authenticate');
    if (!value) throw new Error(`no challenge: ${challenge.slice(0, 40)}`);
    const ok = await send([
      `Authorization: ${digestAnswer(value, { method: 'REGISTER', uri: `sip:${DOMAIN}` }, credential)}`,
    ]);
    if (!ok.startsWith('SIP/2.0 200')) throw new Error(`REGISTER refused: ${ok.slice(0, 40)}`);
  }

  message(to) {
    const id = `${this.user}-${randomBytes(6).toString('hex')}`;
    const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
    stats.sent += 1;
    this.socket.send(
      request(
        `MESSAGE`,
        `sip:${to}@${DOMAIN}`,
        [
          `Via: SIP/2.0/WS ${this.user}.invalid;branch=${branch}`,
          'Max-Forwards: 70',
          `From: <sip:${this.user}@${DOMAIN}>;tag=${randomBytes(4).toString('hex')}`,
          `To: <sip:${to}@${DOMAIN}>`,
          `Call-ID: ${id}`,
          'CSeq: 1 MESSAGE',
          'Content-Type: text/plain',
        ],
        id,
      ),
    );
    this.#answer(branch).then((answer) => {
      if (answer.startsWith('SIP/2.0 200')) stats.accepted += 1;
    });
  }

  #answer(branch) {
    return new Promise((resolve) => this.pending.set(branch, resolve));
  }

  #onMessage(text) {
    if (text.startsWith('SIP/2.0 ')) {
      const branch = /branch=([^;,\s]+)/.exec(headerOf(text, 'Via') ?? '')?.[1];
      const resolve = this.pending.get(branch);
      this.pending.delete(branch);
      resolve?.(text);
      return;
    }
    if (text.startsWith('MESSAGE ')) {
      const body = text.slice(text.indexOf(CRLF + CRLF) + 4);
      if (!delivered.has(body)) {
        delivered.add(body);
        stats.delivered += 1;
      }
      // 200 OK, copying Via, From, To (with a tag), Call-ID and CSeq.
      const lines = text.split(CRLF);
      const keep = lines.filter((l) => /^(Via|From|Call-ID|CSeq):/i.test(l));
      const to = lines.find((l) => /^To:/i.test(l));
      this.socket.send(
        [`SIP/2.0 200 OK`, ...keep, `${to};tag=${this.user}`, 'Content-Length: 0', '', ''].join(CRLF),
      );
    }
  }
}

const clients = Array.from({ length: CLIENTS }, (_, i) => new SoakClient(i));
const setupStarted = performance.now();
for (let i = 0; i < clients.length; i += 100) {
  await Promise.all(
    clients.slice(i, i + 100).map(async (c) => {
      await c.open();
      await c.register();
    }),
  );
}
console.log(`${CLIENTS} clients registered in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);

const samples = [];
const started = Date.now();
const sample = async () => {
  const m = await measured();
  samples.push({
    minute: (Date.now() - started) / 60_000,
    rss: m.rssMb,
    heap: m.heapMb,
    p99: m.eventLoopP99Ms,
  });
};
await sample();
// Each client messages a random other every MESSAGE_EVERY_MS (spread over the interval) and
// refreshes its registration at half its expiry, as SIP.js does.
const timers = [];
clients.forEach((client, i) => {
  setTimeout(
    () => {
      if (Date.now() - started >= DURATION_MS) return;
      timers.push(
        setInterval(
          () => client.message(clients[Math.floor(Math.random() * CLIENTS)].user),
          MESSAGE_EVERY_MS,
        ),
      );
    },
    (i / CLIENTS) * MESSAGE_EVERY_MS,
  );
  timers.push(
    setInterval(() => client.register().catch(() => (stats.registerFailures += 1)), (EXPIRES / 2) * 1000),
  );
});
const sampler = setInterval(sample, 30_000);
await new Promise((resolve) => setTimeout(resolve, DURATION_MS));
clearInterval(sampler);
for (const timer of timers) clearInterval(timer);
// Let the last MESSAGEs arrive: every one sent must be delivered.
for (let waited = 0; stats.delivered < stats.sent && waited < 10_000; waited += 100)
  await new Promise((r) => setTimeout(r, 100));
await sample();
for (const client of clients) client.socket.close();
while ((await gateway.scrape()).connections > 0) await new Promise((r) => setTimeout(r, 1000));
const afterGc = await measured();
// Settled: idle until RSS stops falling (by under 1 MB in 10 s), at least 30 s.
const idle = [await gateway.rssMb()];
for (const settleStarted = Date.now(); Date.now() - settleStarted < 120_000; ) {
  await new Promise((r) => setTimeout(r, 5000));
  idle.push(await gateway.rssMb());
  if (Date.now() - settleStarted >= 30_000 && !(idle.length > 2 && idle.at(-3) - idle.at(-1) >= 1)) break;
}
const settled = await measured();
await gateway.stop();

// Least-squares slope of RSS over the run, after the first sample (warm-up).
const tail = samples.slice(1);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const mx = mean(tail.map((s) => s.minute));
const my = mean(tail.map((s) => s.rss));
const slope =
  tail.reduce((a, s) => a + (s.minute - mx) * (s.rss - my), 0) /
  tail.reduce((a, s) => a + (s.minute - mx) ** 2, 0);
const p99s = samples.map((s) => s.p99).filter(Number.isFinite);
console.log(
  `ran ${values.minutes} min with ${CLIENTS} clients; MESSAGE every ${values['message-every']} s each`,
);
console.log(
  `MESSAGEs sent ${stats.sent}, delivered ${stats.delivered}, answered 200 ${stats.accepted}; lost ${stats.sent - stats.delivered}`,
);
console.log(`REGISTER refresh failures ${stats.registerFailures}`);
console.log(
  `RSS ${samples[0].rss.toFixed(1)} → ${samples.at(-1).rss.toFixed(1)} MB; slope ${slope.toFixed(2)} MB/min; heap ${samples[0].heap.toFixed(1)} → ${samples.at(-1).heap.toFixed(1)} MB`,
);
console.log(
  `event-loop delay p99 (per scrape): max ${Math.max(...p99s).toFixed(1)} ms, last ${p99s.at(-1)?.toFixed(1)} ms`,
);
console.log(
  `RSS before the clients ${rssBefore.rssMb.toFixed(1)} MB; after they left, after GC ${afterGc.rssMb.toFixed(1)} MB; settled ${settled.rssMb.toFixed(1)} MB (malloc [heap] ${settled.mallocHeapMb.toFixed(1)} MB, allocator ${values.malloc}); internal errors ${settled.internalErrors}`,
);
const round = (n) => Math.round(n * 10) / 10;
console.log(
  JSON.stringify({
    messages: stats.sent,
    lost: stats.sent - stats.delivered,
    internalErrors: settled.internalErrors,
    rssBeforeMb: round(rssBefore.rssMb),
    rssAfterGcMb: round(afterGc.rssMb),
    rssSettledMb: round(settled.rssMb),
    series: samples.map((s) => ({ minute: round(s.minute), rssMb: round(s.rss) })),
  }),
);
process.exit(stats.sent === stats.delivered && settled.internalErrors === 0 ? 0 : 1);
