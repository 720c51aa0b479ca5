// node bench/calls-in-process.mjs [calls per round] (after npm run build) — the gateway's own work
// per call of bench:calls without sockets, for comparing builds on a machine too busy for the full
// benchmark to tell them apart (issue 28): the built gateway's SIP server (buildApp) with two
// in-process flows (a caller and a callee), each with the SIP capture's tap as the WebSocket edge
// has, bench:calls' messages (a real Chromium offer and answer), CPU per call from
// process.cpuUsage. The load client's own parsing and building are included: compare builds, not
// this figure with bench:calls'.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { buildApp, loadConfig } from '../packages/gateway/dist/index.js';
import { SipCapture } from '../packages/gateway/dist/sip-capture/sip-capture.js';
import { build, OFFER, one, parse, respond } from './lib/sip-calls.mjs';

const perRound = Number(process.argv[2] ?? 5000);
const ANSWER = readFileSync(
  new URL('../packages/sdp/test/fixtures/chromium-audio-answer.sdp', import.meta.url),
  'utf8',
).replace(/\r?\n/g, '\r\n');
const HOST = '127.0.0.1';

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
const rounds = [];
for (let round = 0; round < 3; round++) {
  const before = process.cpuUsage();
  for (let i = 0; i < perRound; i++) call();
  const used = process.cpuUsage(before);
  rounds.push((used.user + used.system) / perRound);
}
await app.close();
const median = [...rounds].sort((a, b) => a - b)[1];
console.log(
  `${rounds.map((us) => us.toFixed(0)).join(', ')} µs per call (gateway and load client, no sockets), load average ${loadavg()[0].toFixed(2)}`,
);
console.log(JSON.stringify({ inProcessCpuUsPerCall: Math.round(median) }));
