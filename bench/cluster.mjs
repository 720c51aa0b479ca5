// npm run bench:cluster — issue 25 item 8: what a second gateway and a second Kamailio node
// bring on this machine, and how fast the cluster recovers from losing one of each.
//
// Throughput, SIP-level load clients (bench:register's and bench:calls', answering digest
// challenges with ephemeral credentials from AUTH_SECRET, so that the deployment's own
// kamailio-config/kamailio.cfg is measured, auth_ephemeral included):
//   1 + 1: one gateway (WORKERS=1, UPSTREAM=udp:A) in front of one Kamailio node (no DMQ);
//   2 + 2: two gateways (UPSTREAM=udp:A,udp:B and udp:B,udp:A, PEER_GATEWAYS) in front of two
//          nodes replicating registrations over DMQ (-A WITH_DMQ -A WITH_GATEWAYS), half the
//          load clients on each gateway (a pair's caller and callee on the same gateway).
//   Same load client settings; the ratios are 2 + 2 over 1 + 1.
// Recovery, Ringway's softphone pages in Chromium (so: in the loopback namespace), two gateways
// (both UPSTREAM=udp:A,udp:B, UPSTREAM_KEEPALIVE_MS=BENCH_KEEPALIVE_MS, 200 by default) in front
// of two DMQ nodes, BENCH_RECOVERY_RUNS (5) runs each, medians:
//   gateway loss: a call between a page on gateway 1 and one on gateway 2, gateway 1 SIGKILLed →
//     the caller's call "active" again (through gateway 2); gateway 1 started again between runs;
//   Kamailio node loss: the node in use SIGKILLed → a new call between two pages that registered
//     before answered ("active"), dialled again while an attempt makes no progress; the node
//     started again between runs (the next run kills the other one, now in use);
//   Kamailio restart: the node in use SIGKILLed and started again → a call through it reaches the
//     callee page (the caller sees it ringing), which never registered again;
//   and once more the node loss with the gateways' default keep-alive (5000 ms), unless
//     BENCH_DEFAULT_KEEPALIVE=0.
// Ends with one JSON line of the five figures.
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { freeTcpPort, freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { describeGateway, gatewayCommand, gatewayEnv } from './lib/gateway-process.mjs';
import { startKamailioNode } from './lib/kamailio-node.mjs';
import { groupCpuMicroseconds, startServer } from './lib/processes.mjs';
import { ephemeralCredential } from './lib/sip-auth.mjs';
import { callStorm } from './lib/sip-calls.mjs';
import { registerStorm } from './lib/sip-load.mjs';
import { median } from './lib/statistics.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const pairs = Number(process.env.BENCH_PAIRS ?? 25);
const runs = Number(process.env.BENCH_RECOVERY_RUNS ?? 5);
const keepAliveMs = Number(process.env.BENCH_KEEPALIVE_MS ?? 200);
// One more node loss with the gateways' default UPSTREAM_KEEPALIVE_MS (5000), 10–15 s long.
const withDefaultKeepAlive = process.env.BENCH_DEFAULT_KEEPALIVE !== '0';
const SECRET = randomBytes(24).toString('base64');
const DOMAIN = 'ringway.test';
const credential = (user) => ephemeralCredential(SECRET, user);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const firstLine = (error) => String(error).split('\n')[0];

/** The gateway bundle on `port`, resolved once /readyz answers 200 (its upstream answered). */
async function startGateway(port, extra) {
  const env = gatewayEnv(port, { SIP_DOMAIN: DOMAIN, AUTH_SECRET: SECRET, WORKERS: '1', ...extra });
  const server = await startServer(process.execPath, gatewayCommand, { port, env });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 200) break;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`gateway on ${port} not ready (${status})`);
    }
    await sleep(20);
  }
  return Object.assign(server, { port, env });
}

/**
 * `nodes` Kamailio nodes (DMQ between them when more than one, the gateways as dispatcher set 2)
 * and one gateway per entry of `upstreamOrders` (indices into the nodes), each knowing the others
 * as PEER_GATEWAYS and every gateway in WS_SERVERS.
 */
async function startCluster(nodeCount, upstreamOrders, gatewayExtra = {}) {
  const udpPorts = [];
  for (let i = 0; i < nodeCount; i++) udpPorts.push(await freeUdpPort());
  const httpPorts = [];
  const upstreamPorts = [];
  for (const _ of upstreamOrders) {
    httpPorts.push(await freeTcpPort());
    upstreamPorts.push(await freeUdpPort());
  }
  const peers = udpPorts.map((port) => `127.0.0.1:${port}`);
  const upstreamSides = upstreamPorts.map((port) => `127.0.0.1:${port}`);
  const cluster = nodeCount > 1;
  const nodes = [];
  for (const [i, udpPort] of udpPorts.entries()) {
    nodes.push(
      await startKamailioNode({
        secret: SECRET,
        sipDomain: DOMAIN,
        wsPort: await freeTcpPort(),
        udpPort,
        ...(cluster
          ? {
              dmq: { peers, notify: peers[(i + 1) % nodeCount] },
              gateways: upstreamSides,
              gatewayPingInterval: 1,
            }
          : {}),
      }),
    );
  }
  const gateways = [];
  for (const [i, order] of upstreamOrders.entries()) {
    gateways.push(
      await startGateway(httpPorts[i], {
        UPSTREAM: order.map((n) => `udp:${nodes[n].udp}`).join(','),
        UPSTREAM_LOCAL_PORT: String(upstreamPorts[i]),
        ...(upstreamOrders.length > 1
          ? {
              PEER_GATEWAYS: upstreamSides.filter((_, other) => other !== i).join(','),
              WS_SERVERS: httpPorts.map((port) => `ws://127.0.0.1:${port}/sip`).join(','),
            }
          : {}),
        ...gatewayExtra,
      }),
    );
  }
  return {
    nodes,
    gateways,
    async stop() {
      for (const gateway of gateways) await gateway.stop();
      for (const node of nodes) await node.stop();
    },
  };
}

/** CPU microseconds used so far by the gateways and by the Kamailio nodes (their process groups). */
async function clusterCpu({ nodes, gateways }) {
  let gateway = 0;
  let kamailio = 0;
  for (const g of gateways) gateway += await groupCpuMicroseconds(g.pid);
  for (const n of nodes) kamailio += await groupCpuMicroseconds(n.pid);
  return { gateway, kamailio };
}

/**
 * The REGISTER storm and the call storm against a started cluster, the load clients split evenly
 * over its gateways (in parallel, same windows); CPU per REGISTER / call of all gateways and all
 * nodes together over the measured window.
 */
async function throughput(cluster, label) {
  const share = (total, i) =>
    Math.floor(total / cluster.gateways.length) + (i < total % cluster.gateways.length ? 1 : 0);
  const url = (g) => `ws://127.0.0.1:${g.port}/sip`;
  const registers = await Promise.all(
    cluster.gateways.map((g, i) =>
      registerStorm(url(g), DOMAIN, {
        connections: share(connections, i),
        seconds,
        users: `${label}r${i}-`,
        credential,
        ...(i === 0 ? { sampleCpu: () => clusterCpu(cluster) } : {}),
      }),
    ),
  );
  const calls = await Promise.all(
    cluster.gateways.map((g, i) =>
      callStorm(url(g), DOMAIN, {
        pairs: share(pairs, i),
        seconds,
        users: `${label}c${i}-`,
        credential,
        ...(i === 0
          ? { cpuOfServer: async () => Object.values(await clusterCpu(cluster)).reduce((a, b) => a + b) }
          : {}),
      }),
    ),
  );
  const sum = (list, pick) => list.reduce((total, r) => total + pick(r), 0);
  const registerRate = sum(registers, (r) => r.perSecond);
  const callRate = sum(calls, (r) => r.perSecond);
  // The first storm's sampler saw every server's CPU over the (shared) window, divided by its own
  // count: scale to the count of all storms.
  const firstShare = registers[0].perSecond / registerRate;
  return {
    'REGISTER/s': Math.round(registerRate),
    'REGISTER p50 ms': median(registers.map((r) => r.p50)).toFixed(2),
    'REGISTER failures': sum(registers, (r) => r.failures),
    'gateway CPU µs/REGISTER': Math.round(registers[0].cpuUsPerRegister.gateway * firstShare),
    'Kamailio CPU µs/REGISTER': Math.round(registers[0].cpuUsPerRegister.kamailio * firstShare),
    'calls/s': Math.round(callRate),
    'INVITE→200 p50 ms': median(calls.map((r) => r.invite.p50)).toFixed(2),
    'call failures': sum(calls, (r) => r.failures),
    'CPU µs/call (all servers)': Math.round(calls[0].cpuUsPerCall * (calls[0].perSecond / callRate)),
    registerRate,
    callRate,
  };
}

// ---------- throughput: 1 + 1 against 2 + 2 ----------
const single = await startCluster(1, [[0]]);
let one;
try {
  one = await throughput(single, 's');
} finally {
  await single.stop();
}
const pair = await startCluster(2, [
  [0, 1],
  [1, 0],
]);
let two;
let pairSettings;
try {
  two = await throughput(pair, 'p');
  pairSettings = pair.gateways[0].env;
} finally {
  await pair.stop();
}
const loadAfterThroughput = loadavg()[0];

// ---------- recovery, with pages ----------
const browser = await launchChromium();

/** A softphone page of `gateway` signed in with an ephemeral credential of `user`, once registered. */
async function openPage(gateway, user) {
  const page = await (await browser.newContext()).newPage();
  const { username, password } = credential(user);
  await page.goto(
    `http://127.0.0.1:${gateway.port}/?user=${encodeURIComponent(username)}&password=${encodeURIComponent(password)}`,
  );
  await page.waitForFunction(
    () =>
      document.getElementById('registration-state')?.textContent === 'registered' &&
      window.ringway?.phone() !== undefined,
    undefined,
    { timeout: 15_000 },
  );
  return page;
}

/** In the page: answer every incoming call at once. */
function autoAnswer() {
  window.ringway.phone().incomingCall.addListener((call) => void call.answer());
}

/** In the page: resolves with Date.now() when the current call is next "active"; rejects if it ends or after 20 s. */
function nextActive() {
  return new Promise((resolve, reject) => {
    const call = window.ringway.current();
    const timer = setTimeout(() => reject(new Error(`still ${call.state} after 20 s`)), 20_000);
    const listener = (state) => {
      if (state === 'ended' || state === 'failed') {
        clearTimeout(timer);
        reject(new Error(`the call ${state}: ${call.endReason?.text}`));
      }
      if (state !== 'active') return;
      call.stateChange.removeListener(listener);
      clearTimeout(timer);
      resolve(Date.now());
    };
    call.stateChange.addListener(listener);
  });
}

/**
 * In the page: dials `target` until a call reaches `goal` ('ringing' or 'active'); an attempt that
 * has not left "dialing" after `progressMs`, or not reached the goal 5 s after that, is hung up and
 * dialled again at once, as is one that fails. Resolves with { reachedAt, dialledAt, attempts,
 * outcomes } (how the attempts before it ended, counted).
 */
function dialUntil({ target, goal, progressMs, deadlineMs }) {
  const phone = window.ringway.phone();
  const deadline = Date.now() + deadlineMs;
  const attempt = () =>
    new Promise((resolve) => {
      const dialledAt = Date.now();
      const call = phone.dial(target);
      let progress = setTimeout(() => resolve({ call, outcome: 'no progress' }), progressMs);
      const listener = (state) => {
        if (state === goal || (goal === 'ringing' && (state === 'connecting' || state === 'active'))) {
          clearTimeout(progress);
          call.stateChange.removeListener(listener);
          resolve({ call, outcome: 'reached', reachedAt: Date.now(), dialledAt });
        } else if (state === 'ended' || state === 'failed') {
          clearTimeout(progress);
          resolve({ call, outcome: state });
        } else if (state !== 'dialing') {
          clearTimeout(progress);
          progress = setTimeout(() => resolve({ call, outcome: 'stuck' }), 5000);
        }
      };
      call.stateChange.addListener(listener);
    });
  return (async () => {
    const outcomes = {};
    for (let attempts = 1; Date.now() < deadline; attempts++) {
      const result = await attempt();
      if (result.outcome === 'reached')
        return { reachedAt: result.reachedAt, dialledAt: result.dialledAt, attempts, outcomes };
      const why = result.outcome === 'failed' ? `failed: ${result.call.endReason?.text}` : result.outcome;
      outcomes[why] = (outcomes[why] ?? 0) + 1;
      await result.call.hangup().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no call to ${target} reached ${goal} in ${deadlineMs} ms: ${JSON.stringify(outcomes)}`);
  })();
}

/** Hangs up the page's current call and waits until no call is live on either page. */
async function hangUp(caller, callee) {
  await caller.evaluate(() => window.ringway.current()?.hangup());
  for (const page of [caller, callee])
    await page.waitForFunction(
      () =>
        !['dialing', 'ringing', 'connecting', 'active', 'held', 'reconnecting'].includes(
          window.ringway.current()?.state,
        ),
      undefined,
      { timeout: 10_000 },
    );
}

const recovery = await startCluster(
  2,
  [
    [0, 1],
    [0, 1],
  ],
  { UPSTREAM_KEEPALIVE_MS: String(keepAliveMs), SHUTDOWN_GRACE_MS: '300' },
);
const gatewayLoss = [];
const nodeLoss = [];
const restarts = [];
let defaultKeepAlive;
try {
  // Gateway loss: the caller's gateway (1) dies mid-call; her page moves to gateway 2.
  for (let run = 0; run < runs; run++) {
    const [first, second] = recovery.gateways;
    const alice = await openPage(first, `ga${run}`);
    const bob = await openPage(second, `gb${run}`);
    await bob.evaluate(autoAnswer);
    await alice.evaluate((target) => void window.ringway.phone().dial(target), `gb${run}`);
    for (const page of [alice, bob])
      await page.waitForFunction(() => window.ringway.current()?.state === 'active', undefined, {
        timeout: 15_000,
      });
    await sleep(500);
    const back = alice.evaluate(nextActive);
    const killedAt = Date.now();
    await first.kill('SIGKILL');
    gatewayLoss.push((await back) - killedAt);
    await hangUp(alice, bob);
    await Promise.all([alice.context().close(), bob.context().close()]);
    recovery.gateways[0] = await startGateway(first.port, first.env);
    // Kamailio probes it back up (GATEWAY_PING_INTERVAL 1 s) before the next run.
    await sleep(1500);
  }

  // Kamailio node loss and restart: two pages that register once, on the two gateways.
  const carol = await openPage(recovery.gateways[0], 'carol');
  const dave = await openPage(recovery.gateways[1], 'dave');
  await dave.evaluate(autoAnswer);
  let inUse = 0;
  for (let run = 0; run < runs; run++) {
    const node = recovery.nodes[inUse];
    const killedAt = Date.now();
    await node.crash();
    try {
      const { reachedAt, dialledAt, attempts, outcomes } = await carol.evaluate(dialUntil, {
        target: 'dave',
        goal: 'active',
        progressMs: 400,
        deadlineMs: 30_000,
      });
      nodeLoss.push({ ms: reachedAt - killedAt, dialledMs: dialledAt - killedAt, attempts, outcomes });
      await hangUp(carol, dave);
    } catch (error) {
      nodeLoss.push({
        ms: Number.NaN,
        dialledMs: Number.NaN,
        attempts: 0,
        outcomes: {},
        error: firstLine(error),
      });
    }
    inUse = 1 - inUse;
    // Back, it takes every registration from the node now in use (DMQ initial sync).
    await node.start();
    await sleep(1000);
  }
  for (let run = 0; run < runs; run++) {
    const node = recovery.nodes[inUse];
    const killedAt = Date.now();
    await node.crash();
    await node.start();
    const startedAt = Date.now();
    try {
      const { reachedAt, attempts, outcomes } = await carol.evaluate(dialUntil, {
        target: 'dave',
        goal: 'ringing',
        progressMs: 400,
        deadlineMs: 30_000,
      });
      restarts.push({ ms: reachedAt - killedAt, afterStartMs: reachedAt - startedAt, attempts, outcomes });
      await hangUp(carol, dave);
    } catch (error) {
      restarts.push({
        ms: Number.NaN,
        afterStartMs: Number.NaN,
        attempts: 0,
        outcomes: {},
        error: firstLine(error),
      });
    }
    await sleep(500);
  }
  await Promise.all([carol.context().close(), dave.context().close()]);
  // Once with the default keep-alive (5000 ms): both gateways started again without the setting,
  // two fresh pages registered through them (node A, the first of UPSTREAM, in use again; every
  // node up), then node A lost. Reported, not part of the JSON line; a failure here is printed.
  if (withDefaultKeepAlive) {
    try {
      for (const [i, gateway] of recovery.gateways.entries()) {
        await gateway.stop();
        const { UPSTREAM_KEEPALIVE_MS: _, ...env } = gateway.env;
        recovery.gateways[i] = await startGateway(gateway.port, env);
      }
      const erin = await openPage(recovery.gateways[0], 'erin');
      const frank = await openPage(recovery.gateways[1], 'frank');
      await frank.evaluate(autoAnswer);
      await sleep(1000);
      const killedAt = Date.now();
      await recovery.nodes[0].crash();
      const { reachedAt, dialledAt, attempts } = await erin.evaluate(dialUntil, {
        target: 'frank',
        goal: 'active',
        progressMs: 400,
        deadlineMs: 40_000,
      });
      defaultKeepAlive = { ms: reachedAt - killedAt, dialledMs: dialledAt - killedAt, attempts };
      await hangUp(erin, frank);
      await Promise.all([erin.context().close(), frank.context().close()]);
    } catch (error) {
      defaultKeepAlive = { error: firstLine(error) };
    }
  }
} finally {
  await browser.close();
  await recovery.stop();
}

// ---------- report ----------
const f = (n, digits = 2) => n.toFixed(digits);
console.log(
  `cluster: ${cpus().length} cores shared by every server, the load clients and Chromium; load average ${f(loadAfterThroughput)} after the throughput part, ${f(loadavg()[0])} at the end`,
);
console.log(
  `throughput: ${connections} REGISTER WebSockets, then ${pairs} caller/callee pairs, closed loop, ${seconds} s each after 1 s of warm-up; load clients answer digest challenges (ephemeral credentials, the challenge kept and answered on every later request) against kamailio-config/kamailio.cfg (auth_ephemeral, Kamailio 5.6, children=2, UDP from the gateways)`,
);
console.log(describeGateway(pairSettings));
const shown = ({ registerRate, callRate, ...row }) => row;
console.table({ '1 gateway + 1 Kamailio': shown(one), '2 gateways + 2 Kamailio (DMQ)': shown(two) });
const registerRatio = two.registerRate / one.registerRate;
const callsRatio = two.callRate / one.callRate;
console.log(
  `ratios 2 + 2 / 1 + 1: REGISTER/s ${f(registerRatio)}×, calls/s ${f(callsRatio)}× (2.00× would be the second pair's whole capacity; all of it shares the same two cores)`,
);
console.log(
  `recovery: ${runs} runs each, two gateways (UPSTREAM=udp:A,udp:B, UPSTREAM_KEEPALIVE_MS=${keepAliveMs}, PEER_GATEWAYS, WS_SERVERS) in front of two DMQ nodes (-A WITH_GATEWAYS, GATEWAY_PING_INTERVAL 1 s)`,
);
const list = (values) => values.map((v) => Math.round(v)).join(', ');
const gatewayLossMedian = median(gatewayLoss);
const nodeLossMedian = median(nodeLoss.map((r) => r.ms));
const restartMedian = median(restarts.map((r) => r.ms));
console.log(
  `gateway SIGKILLed → caller's call active again through the other gateway: median ${Math.round(gatewayLossMedian)} ms (${list(gatewayLoss)}; goal ≤ 2000 ms)`,
);
console.log(
  `Kamailio node in use SIGKILLed → a new call answered and active: median ${Math.round(nodeLossMedian)} ms (${list(nodeLoss.map((r) => r.ms))}; the attempt that connected dialled at ${list(nodeLoss.map((r) => r.dialledMs))} ms, attempts ${nodeLoss.map((r) => r.attempts).join(', ')}; goal ≤ 1000 ms). The gateway gives a node up after 2 × UPSTREAM_KEEPALIVE_MS + min(1 s, UPSTREAM_KEEPALIVE_MS) unanswered (${2 * keepAliveMs + Math.min(1000, keepAliveMs)} ms here; with the default 5000 ms: 11 s, checked at each keep-alive, so 10–15 s after the crash)`,
);
console.log(
  `Kamailio node in use SIGKILLed and started again → a call through it rings the callee, who never registered again: median ${Math.round(restartMedian)} ms (${list(restarts.map((r) => r.ms))}; from its start accepting: ${list(restarts.map((r) => r.afterStartMs))} ms; goal ≤ 5000 ms)`,
);
if (defaultKeepAlive?.error)
  console.log(`the same with the default UPSTREAM_KEEPALIVE_MS (5000), once: ${defaultKeepAlive.error}`);
else if (defaultKeepAlive)
  console.log(
    `the same with the default UPSTREAM_KEEPALIVE_MS (5000), once: ${Math.round(defaultKeepAlive.ms)} ms (the attempt that connected dialled at ${Math.round(defaultKeepAlive.dialledMs)} ms, attempt ${defaultKeepAlive.attempts})`,
  );
for (const [name, results] of [
  ['node loss', nodeLoss],
  ['restart', restarts],
])
  for (const [run, r] of results.entries())
    if (r.error) console.log(`${name} run ${run + 1} failed: ${r.error}`);
const merged = (results) => {
  const all = {};
  for (const r of results) for (const [why, n] of Object.entries(r.outcomes)) all[why] = (all[why] ?? 0) + n;
  return (
    Object.entries(all)
      .map(([why, n]) => `${why} ×${n}`)
      .join('; ') || 'none'
  );
};
console.log(
  `attempts before the one that connected, all runs: after the node loss ${merged(nodeLoss)}; after the restart ${merged(restarts)}`,
);
console.log(
  JSON.stringify({
    gatewayLossToActiveMsMedian: Math.round(gatewayLossMedian),
    kamailioLossToNewCallMs: Math.round(nodeLossMedian),
    kamailioRestartToCallableMs: Math.round(restartMedian),
    registerRatio: Number(f(registerRatio)),
    callsRatio: Number(f(callsRatio)),
  }),
);
