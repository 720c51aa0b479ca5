// npm run bench:presence — how fast a call's state reaches the people watching. W watcher
// WebSockets subscribe to the `dialog` package (RFC 4235) of one callee; a caller calls it R times;
// each time the callee rings (180 at once) and then declines (486) once every watcher has seen it
// ring. Measured per call: INVITE sent → the last watcher's NOTIFY saying `early` (ringing
// fan-out), and 486 sent → the last watcher's NOTIFY with no live dialog (end fan-out). The
// gateway (embedded, anonymous loopback mode) against Kamailio 5.6 with the presence path of
// kamailio-config/ (dialog + pua_dialoginfo → presence + presence_dialoginfo, db_text;
// bench/kamailio-ws-presence.cfg), one worker each, in one run.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeGateway, gatewayCommand, gatewayEnv } from './lib/gateway-process.mjs';
import { startServer } from './lib/processes.mjs';
import { branch, build, OFFER, parse, respond } from './lib/sip-calls.mjs';
import { open, percentile } from './lib/sip-load.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const watchers = Number(process.env.BENCH_WATCHERS ?? 50);
const PORTS = { kamailio: 18_710, kamailioUdp: 18_711, gateway: 18_730 };
const DOMAIN = '127.0.0.1';
const WAIT_MS = 10_000;
const here = dirname(fileURLToPath(import.meta.url));

/** Resolves when `check()` holds, polled every millisecond; rejects after WAIT_MS. */
function until(check, what) {
  return new Promise((resolve, reject) => {
    const deadline = performance.now() + WAIT_MS;
    const poll = () => {
      if (check()) return resolve(performance.now());
      if (performance.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 1);
    };
    poll();
  });
}

/** A watcher: subscribes to the callee's dialog package and keeps the time of each NOTIFY's body. */
async function watcher(url, index) {
  const socket = await open(url);
  const port = socket._socket.localPort;
  const seen = [];
  socket.on('message', (data) => {
    const text = data.toString();
    if (!text.startsWith('NOTIFY ')) return;
    const request = parse(text);
    seen.push({ at: performance.now(), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    socket.send(respond(request, 200, 'OK'));
  });
  socket.send(
    build(`SUBSCRIBE sip:callee@${DOMAIN} SIP/2.0`, [
      `Via: SIP/2.0/WS w${index}.invalid;branch=${branch()}`,
      'Max-Forwards: 70',
      `To: <sip:callee@${DOMAIN}>`,
      `From: <sip:watcher${index}@${DOMAIN}>;tag=w${index}`,
      `Call-ID: bench-watch-${process.pid}-${index}`,
      'CSeq: 1 SUBSCRIBE',
      // Its own address and port: Kamailio sends NOTIFYs to the Contact, and finds this
      // connection by it (a `.invalid` host would not resolve).
      `Contact: <sip:watcher${index}@127.0.0.1:${port};transport=ws>`,
      'Event: dialog',
      'Accept: application/dialog-info+xml',
      'Expires: 600',
    ]),
  );
  await until(() => seen.length > 0, `watcher ${index}'s first NOTIFY`);
  return { socket, seen };
}

/** Registers the callee; it answers each INVITE with 180 at once and keeps it for `decline()`. */
async function callee(url) {
  const socket = await open(url);
  const port = socket._socket.localPort;
  let pending;
  socket.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith('INVITE ')) {
      pending = parse(text);
      socket.send(
        respond(pending, 180, 'Ringing', {
          toTag: 'ce',
          extra: [`Contact: <sip:callee@127.0.0.1:${port};transport=ws>`],
        }),
      );
    } else if (text.startsWith('ACK ')) {
      // The proxy's ACK for our 486.
    }
  });
  await new Promise((resolve, reject) => {
    socket.once('message', (data) =>
      data.toString().startsWith('SIP/2.0 200') ? resolve() : reject(new Error(`REGISTER: ${data}`)),
    );
    socket.send(
      build(`REGISTER sip:${DOMAIN} SIP/2.0`, [
        `Via: SIP/2.0/WS callee.invalid;branch=${branch()}`,
        'Max-Forwards: 70',
        `To: <sip:callee@${DOMAIN}>`,
        `From: <sip:callee@${DOMAIN}>;tag=reg`,
        `Call-ID: bench-register-callee-${process.pid}`,
        'CSeq: 1 REGISTER',
        `Contact: <sip:callee@127.0.0.1:${port};transport=ws>;expires=600`,
        'Expires: 600',
      ]),
    );
  });
  return {
    socket,
    hasCall: () => pending !== undefined,
    decline() {
      socket.send(respond(pending, 486, 'Busy Here', { toTag: 'ce' }));
      pending = undefined;
    },
  };
}

const ringing = (body) => /<state>early<\/state>/.test(body);
const idle = (body) => !/<state>(early|confirmed|trying|proceeding)<\/state>/.test(body);

/** R calls against one server; the two fan-out times of each. */
async function measure(url) {
  const target = await callee(url);
  const watching = [];
  for (let i = 0; i < watchers; i++) watching.push(await watcher(url, i));
  const caller = await open(url);
  const ringMs = [];
  const endMs = [];
  for (let call = 1; call <= rounds; call++) {
    const callId = `bench-presence-${process.pid}-${call}`;
    const viaBranch = branch();
    const marks = watching.map((w) => w.seen.length);
    const invitedAt = performance.now();
    caller.send(
      build(
        `INVITE sip:callee@${DOMAIN} SIP/2.0`,
        [
          `Via: SIP/2.0/WS caller.invalid;branch=${viaBranch}`,
          'Max-Forwards: 70',
          `To: <sip:callee@${DOMAIN}>`,
          `From: <sip:caller@${DOMAIN}>;tag=c${call}`,
          `Call-ID: ${callId}`,
          'CSeq: 1 INVITE',
          'Contact: <sip:caller@caller.invalid;transport=ws>',
          'Content-Type: application/sdp',
        ],
        OFFER,
      ),
    );
    const sawRinging = (w, mark) => w.seen.slice(mark).some((n) => ringing(n.body));
    await until(
      () => watching.every((w, i) => sawRinging(w, marks[i])),
      `call ${call} ringing at every watcher`,
    );
    ringMs.push(
      Math.max(...watching.map((w, i) => w.seen.slice(marks[i]).find((n) => ringing(n.body)).at)) - invitedAt,
    );
    await until(() => target.hasCall(), `call ${call} at the callee`);
    const ends = watching.map((w) => w.seen.length);
    const declinedAt = performance.now();
    target.decline();
    await until(
      () => watching.every((w, i) => w.seen.slice(ends[i]).some((n) => idle(n.body))),
      `call ${call} ended at every watcher`,
    );
    endMs.push(
      Math.max(...watching.map((w, i) => w.seen.slice(ends[i]).find((n) => idle(n.body)).at)) - declinedAt,
    );
    // The caller's ACK for the 486 (RFC 3261 §17.1.1.3), on the INVITE's branch.
    caller.send(
      build(`ACK sip:callee@${DOMAIN} SIP/2.0`, [
        `Via: SIP/2.0/WS caller.invalid;branch=${viaBranch}`,
        'Max-Forwards: 70',
        `To: <sip:callee@${DOMAIN}>;tag=ce`,
        `From: <sip:caller@${DOMAIN}>;tag=c${call}`,
        `Call-ID: ${callId}`,
        'CSeq: 1 ACK',
      ]),
    );
  }
  for (const socket of [caller, target.socket, ...watching.map((w) => w.socket)]) socket.close();
  const sorted = (list) => [...list].sort((a, b) => a - b);
  const [ring, end] = [sorted(ringMs), sorted(endMs)];
  return {
    ring: { p50: percentile(ring, 50), p90: percentile(ring, 90) },
    end: { p50: percentile(end, 50), p90: percentile(end, 90) },
  };
}

async function kamailio() {
  const folder = mkdtempSync(join(tmpdir(), 'ringway-bench-presence-'));
  mkdirSync(join(folder, 'db'));
  for (const table of ['version', 'presentity', 'active_watchers', 'watchers', 'pua'])
    copyFileSync(join('/usr/share/kamailio/dbtext/kamailio', table), join(folder, 'db', table));
  const config = readFileSync(join(here, 'kamailio-ws-presence.cfg'), 'utf8')
    .replace(/^children=WORKERS$/m, 'children=1')
    .replace(/^tcp_children=WORKERS$/m, 'tcp_children=1')
    .replace(
      /^listen=LISTEN$/m,
      `listen=tcp:127.0.0.1:${PORTS.kamailio}\nlisten=udp:127.0.0.1:${PORTS.kamailioUdp}`,
    )
    .replace(/^alias=DOMAIN$/m, `alias=${DOMAIN}`)
    .replaceAll('"SELF"', `"sip:127.0.0.1:${PORTS.kamailioUdp}"`)
    .replace('"PRESENCE_DB"', `"text://${join(folder, 'db')}"`);
  writeFileSync(join(folder, 'kamailio.cfg'), config);
  const server = await startServer(
    'kamailio',
    ['-DD', '-E', '-f', join(folder, 'kamailio.cfg'), '-m', '256', '-M', '16'],
    {
      port: PORTS.kamailio,
      udpPorts: [PORTS.kamailioUdp],
    },
  );
  try {
    return await measure(`ws://127.0.0.1:${PORTS.kamailio}/`);
  } finally {
    await server.stop();
  }
}

async function gateway() {
  const env = gatewayEnv(PORTS.gateway, { SIP_DOMAIN: DOMAIN });
  const server = await startServer(process.execPath, gatewayCommand, { port: PORTS.gateway, env });
  try {
    return await measure(`ws://127.0.0.1:${PORTS.gateway}/sip`);
  } finally {
    await server.stop();
  }
}

const results = {
  'Kamailio 5.6 presence (1 worker)': await kamailio(),
  'Ringway gateway (embedded)': await gateway(),
};
const f = (n) => n.toFixed(1);
console.log(
  `presence: ${watchers} watchers of one callee's dialog package, ${rounds} calls each ringing then declined; ${cpus().length} cores shared with the load client; load average ${loadavg()[0].toFixed(2)} at the end`,
);
console.log(describeGateway(gatewayEnv(PORTS.gateway, { SIP_DOMAIN: DOMAIN })));
console.table(
  Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        'INVITE → all watchers see ringing, p50 ms': f(r.ring.p50),
        'p90 ms': f(r.ring.p90),
        '486 → all watchers see it end, p50 ms': f(r.end.p50),
        'p90 ms ': f(r.end.p90),
      },
    ]),
  ),
);
const [anchor, ours] = Object.values(results);
console.log(
  `ratio (Kamailio ÷ gateway, above 1 = the gateway is faster): ringing p50 ${(anchor.ring.p50 / ours.ring.p50).toFixed(2)}×, end p50 ${(anchor.end.p50 / ours.end.p50).toFixed(2)}×`,
);
