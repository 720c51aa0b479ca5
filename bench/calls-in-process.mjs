// node bench/calls-in-process.mjs [calls per burst] [--against=<folder>] (after npm run build) —
// the gateway's own work per call of bench:calls without sockets: the built gateway's SIP server
// (buildApp) with two in-process flows (a caller and a callee), each with the SIP capture's tap as
// the WebSocket edge has, bench:calls' messages (a real Chromium offer and answer), CPU per call
// from process.cpuUsage. The load client's own parsing and building are included: compare builds,
// not this figure with bench:calls'.
//
// With --against, two builds in one process: packages/gateway/dist and another copy of it (a
// folder inside packages/gateway, e.g. `cp -r dist dist-before` before a change, so that its
// imports resolve), in alternating bursts with a minor GC between them; dist's CPU per call over
// the other's in each pair of neighbouring bursts (below 1: dist is the cheaper), median and
// quartiles. Only the gateway's own build differs: both take the same node_modules and workspace
// packages (@ringway/sdp), so a change there does not show. A drift of this machine's speed (half within minutes)
// falls on both builds of a pair alike: two copies of one build measure 1.01× (0.96–1.05) on a quiet
// machine, where whole runs of bench:calls could not tell 10 % apart (issue 28).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { build, OFFER, one, parse, respond } from './lib/sip-calls.mjs';
import { percentile } from './lib/sip-load.mjs';
import { median } from './lib/statistics.mjs';

const args = process.argv.slice(2);
const perBurst = Number(args.find((a) => !a.startsWith('--')) ?? 300);
if (!Number.isInteger(perBurst) || perBurst < 1)
  throw new Error(`calls per burst must be a whole number ≥ 1, not ${perBurst} (--against=<folder>, with =)`);
const against = args.find((a) => a.startsWith('--against='))?.slice('--against='.length);
const gateway = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'gateway');
const ANSWER = readFileSync(
  new URL('../packages/sdp/test/fixtures/chromium-audio-answer.sdp', import.meta.url),
  'utf8',
).replace(/\r?\n/g, '\r\n');
const HOST = '127.0.0.1';

/** The gateway of the build in `folder`, with a caller and a callee: `call()` makes one call through it. */
async function harness(folder) {
  const url = (path) => pathToFileURL(join(folder, path)).href;
  const { buildApp, loadConfig } = await import(url('index.js'));
  const { SipCapture } = await import(url('sip-capture/sip-capture.js'));
  const app = await buildApp(
    loadConfig({
      PORT: '0',
      RATE_MESSAGES_PER_SECOND: '1000000',
      RATE_MESSAGE_BURST: '1000000',
      LOG_LEVEL: 'silent',
    }),
  );
  await app.ready();
  const capture = new SipCapture({ maxCalls: 200, maxBytes: 16 * 1024 * 1024, log: app.log });

  /** A flow whose sent messages pile up in `inbox`; `deliver` hands the gateway a frame from it. */
  function client(id, port) {
    const tap = capture.flowTap({
      transport: 'WS',
      client: { ip: HOST, port },
      gateway: { ip: HOST, port: 8080 },
    });
    const inbox = [];
    app.sip.attach({
      id,
      transport: 'WS',
      remoteAddress: HOST,
      remotePort: port,
      send: (text) => {
        tap.sent(text);
        inbox.push(text);
      },
      close() {},
    });
    return {
      take: () => inbox.splice(0),
      // As the WebSocket edge does: the frame read as text once, for the capture and the server.
      deliver: (text) => {
        const frame = Buffer.from(text).toString('utf8');
        tap.received(frame);
        app.sip.receive(id, frame);
      },
    };
  }

  let branches = 0;
  const branch = () => `z9hG4bKinprocess${++branches}`;
  const caller = client('caller', 40_000);
  const callee = client('callee', 40_001);
  for (const [socket, user] of [
    [callee, 'ce0'],
    [caller, 'cr0'],
  ]) {
    socket.deliver(
      build(`REGISTER sip:${HOST} SIP/2.0`, [
        `Via: SIP/2.0/WS ${user}.invalid;branch=${branch()}`,
        'Max-Forwards: 70',
        `To: <sip:${user}@${HOST}>`,
        `From: <sip:${user}@${HOST}>;tag=r${user}`,
        `Call-ID: register-${user}`,
        'CSeq: 1 REGISTER',
        `Contact: <sip:${user}@${user}.invalid;transport=ws>;expires=600`,
        'Expires: 600',
      ]),
    );
    socket.take();
  }

  let calls = 0;
  /** INVITE, 100, 180, 200, ACK, BYE, 200, as bench:calls' caller and callee send them. */
  function call() {
    calls += 1;
    const callId = `in-process-${calls}`;
    const from = `<sip:cr0@${HOST}>;tag=f${calls}`;
    const target = `sip:ce0@${HOST}`;
    caller.deliver(
      build(
        `INVITE ${target} SIP/2.0`,
        [
          `Via: SIP/2.0/WS cr0.invalid;branch=${branch()}`,
          'Max-Forwards: 70',
          `To: <${target}>`,
          `From: ${from}`,
          `Call-ID: ${callId}`,
          'CSeq: 1 INVITE',
          'Contact: <sip:cr0@cr0.invalid;transport=ws>',
          'Content-Type: application/sdp',
        ],
        OFFER,
      ),
    );
    caller.take();
    const invite = parse(callee.take().find((text) => text.startsWith('INVITE')) ?? '');
    callee.deliver(respond(invite, 180, 'Ringing', { toTag: `t${calls}` }));
    callee.deliver(
      respond(invite, 200, 'OK', {
        toTag: `t${calls}`,
        extra: ['Contact: <sip:ce0@ce0.invalid;transport=ws>', 'Content-Type: application/sdp'],
        body: ANSWER,
      }),
    );
    const answer = parse(caller.take().find((text) => text.startsWith('SIP/2.0 200')) ?? '');
    const routes = (answer.headers.get('record-route') ?? [])
      .flatMap((value) => value.split(/,(?=\s*<)/))
      .reverse()
      .map((route) => `Route: ${route.trim()}`);
    const remote = /<([^>]+)>/.exec(one(answer, 'contact'))?.[1];
    const dialog = [
      'Max-Forwards: 70',
      ...routes,
      `To: ${one(answer, 'to')}`,
      `From: ${from}`,
      `Call-ID: ${callId}`,
    ];
    caller.deliver(
      build(`ACK ${remote} SIP/2.0`, [
        `Via: SIP/2.0/WS cr0.invalid;branch=${branch()}`,
        ...dialog,
        'CSeq: 1 ACK',
      ]),
    );
    caller.deliver(
      build(`BYE ${remote} SIP/2.0`, [
        `Via: SIP/2.0/WS cr0.invalid;branch=${branch()}`,
        ...dialog,
        'CSeq: 2 BYE',
      ]),
    );
    callee.deliver(respond(parse(callee.take().find((text) => text.startsWith('BYE')) ?? ''), 200, 'OK'));
    if (!caller.take().some((text) => text.startsWith('SIP/2.0 200') && text.includes('CSeq: 2 BYE')))
      throw new Error(`call ${calls} did not end with 200 to its BYE`);
  }

  for (let i = 0; i < 2000; i++) call();
  return { call, close: () => app.close() };
}

/** CPU per call of one burst of `perBurst` calls, the young generation emptied first. */
function burst(call, gc) {
  gc({ type: 'minor' });
  const before = process.cpuUsage();
  for (let i = 0; i < perBurst; i++) call();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / perBurst;
}

// A minor GC between bursts, so that one build's garbage is not collected in the other's burst.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const builds = [await harness(join(gateway, 'dist'))];
if (against !== undefined) builds.push(await harness(resolve(against)));
const pairs = against === undefined ? 20 : 80;
const perCall = builds.map(() => []);
const ratios = [];
for (let pair = 0; pair < pairs; pair++) {
  // Each build goes first in every other pair.
  const order = pair % 2 === 0 ? builds.keys() : [...builds.keys()].reverse();
  for (const i of order) perCall[i].push(burst(builds[i].call, gc));
  if (builds.length === 2) ratios.push(perCall[0][pair] / perCall[1][pair]);
}
for (const b of builds) await b.close();

const ours = median(perCall[0]);
console.log(
  `dist: ${ours.toFixed(0)} µs per call (gateway and load client, no sockets; ${pairs} bursts of ${perBurst}), load average ${loadavg()[0].toFixed(2)}`,
);
if (against === undefined) {
  console.log(JSON.stringify({ inProcessCpuUsPerCall: Math.round(ours) }));
} else {
  const sorted = [...ratios].sort((a, b) => a - b);
  const [ratio, low, high] = [median(ratios), percentile(sorted, 25), percentile(sorted, 75)];
  console.log(
    `${against}: ${median(perCall[1]).toFixed(0)} µs per call; dist / ${against} ${ratio.toFixed(3)}× (quartiles ${low.toFixed(3)}–${high.toFixed(3)}, ${pairs} pairs of bursts)`,
  );
  console.log(
    JSON.stringify({
      inProcessCpuUsPerCall: Math.round(ours),
      againstCpuUsPerCall: Math.round(median(perCall[1])),
      ratio: Number(ratio.toFixed(3)),
      quartiles: [Number(low.toFixed(3)), Number(high.toFixed(3))],
    }),
  );
}
