// npm run bench:first-call — the call a person mostly makes: the first one of a freshly opened
// page, as a user meets it. Each round opens Ringway's page as alice and as bob in new browser
// contexts (page load, ?user= sign-in in loopback development mode, registration), fills bob's
// number and presses alice's Dial button (data-testids) at once, and measures from the press
// (pointerdown on Dial) to bob's page showing the call (its answer button visible), both on the
// pages' own clocks (first-call-probe.mjs: performance.timeOrigin + now(), one clock for every
// page of the browser; the offset between the two pages is measured each round and printed).
// Each page's waterfall comes from the same probe: the caller's click → microphone → peer
// connection → addTrack → offer → candidates → INVITE sent → 100 → 180, the callee's INVITE
// received → 100 and 180 sent → answer button shown → its frame. STUN is configured on a loopback
// port where nothing listens (a server that never answers, the worst case for the offer). One
// unmeasured call first (the gateway's first ever), then BENCH_ROUNDS (20) quiet, then as many
// with a CPU burner on one core (bench/lib startBusyCore), the load average before and after
// each. BENCH_VERBOSE=1 prints every round's marks; BENCH_SOFTPHONE_DIR serves another build of
// the page (another commit's, to compare); BENCH_MICROPHONE=1 adds the microphone's cost: pairs
// left alone a third of the phone's quiet period (microphone still warm) against pairs left
// alone past it (released: the call waits for getUserMedia). Runs in the lo-only test namespace;
// the last line is one JSON object: {"p50Ms","p90Ms","busyP90Ms"} (press on Dial → callee's page
// shows the call: quiet p50 and p90, one core busy p90).
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { DEFAULT_WARM_MICROPHONE_MS } from '../packages/softphone/dist/lib/index.js';
import { firstCallProbe } from './first-call-probe.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { gatewayCommand } from './lib/gateway-process.mjs';
import { startBusyCore, startServer } from './lib/processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

// The gateway as `npm start` runs it, in a process of its own (as people run it).
const port = await freeTcpPort();
const gateway = await startServer(process.execPath, gatewayCommand, {
  port,
  env: {
    PORT: String(port),
    SIP_DOMAIN: '127.0.0.1',
    ICE_SERVERS: JSON.stringify([{ urls: `stun:127.0.0.1:${await freeUdpPort()}` }]),
    // BENCH_SOFTPHONE_DIR: another build of the page (another commit's) to compare with.
    SOFTPHONE_DIR:
      process.env.BENCH_SOFTPHONE_DIR ?? join(here, '..', 'packages', 'softphone', 'dist', 'page'),
  },
});
const base = `http://127.0.0.1:${port}`;
const browser = await launchChromium();

async function open(user) {
  const context = await browser.newContext();
  await context.addInitScript(firstCallProbe);
  const page = await context.newPage();
  await page.goto(`${base}/?user=${user}`);
  await page
    .getByTestId('registration-state')
    .filter({ hasText: /^registered$/ })
    .waitFor();
  return page;
}

/** One fresh pair of pages, alice's and bob's. */
async function openPair(round, label) {
  return {
    alice: await open(`a${label}${round}`),
    bob: await open(`b${label}${round}`),
    callee: `b${label}${round}`,
  };
}

const clock = () => performance.timeOrigin + performance.now();

/** The page's clock minus the benchmark's, and half the round trip it was read in (best of 3). */
async function clockOffset(page) {
  let best = { offset: 0, error: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 3; i++) {
    const before = clock();
    const inPage = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = clock();
    if ((after - before) / 2 < best.error)
      best = { offset: inPage - (before + after) / 2, error: (after - before) / 2 };
  }
  return best;
}

const CALLER_STEPS = [
  'click',
  'getUserMediaStart',
  'getUserMediaEnd',
  'peerConnection',
  'addTrack',
  'createOffer',
  'localDescriptionSet',
  'hostCandidate',
  'srflxCandidate',
  'gatheringComplete',
  'inviteSent',
  'tryingReceived',
  'ringingReceived',
];
const CALLEE_STEPS = ['inviteReceived', 'tryingSent', 'ringingSent', 'ringingShown', 'ringingFrame'];

/** The first call from alice's page: click on Dial → bob's page shows the call. */
async function firstCall({ alice, bob, callee }) {
  await alice.getByTestId('dial-input').fill(callee);
  const [aliceClock, bobClock] = [await clockOffset(alice), await clockOffset(bob)];
  await Promise.all(
    [
      [alice, 'caller'],
      [bob, 'callee'],
    ].map(([page, role]) =>
      page.evaluate((role) => Object.assign(globalThis.__firstCall, { armed: true, role }), role),
    ),
  );
  const clicked = clock();
  await alice.getByTestId('dial-button').click();
  await bob.getByTestId('answer-button').waitFor({ state: 'visible' });
  const seenByPlaywright = clock() - clicked;
  // Under load the 180 may reach alice after bob's page shows the call.
  await alice.waitForFunction(() => globalThis.__firstCall.marks.ringingReceived !== undefined);
  await bob.waitForFunction(() => globalThis.__firstCall.marks.ringingFrame !== undefined);
  const [caller, calleeProbe] = await Promise.all(
    [alice, bob].map((page) => page.evaluate(() => globalThis.__firstCall)),
  );
  const click = caller.marks.press;
  // BENCH_VERBOSE=1: every round's marks, ms after the press.
  if (process.env.BENCH_VERBOSE === '1') {
    const relative = (marks) =>
      Object.entries(marks)
        .sort(([, a], [, b]) => a - b)
        .map(([step, at]) => `${step} ${(at - click).toFixed(1)}`)
        .join(' · ');
    console.log(`caller: ${relative(caller.marks)}\ncallee: ${relative(calleeProbe.marks)}`);
  }
  const since = (marks, steps) =>
    Object.fromEntries(
      steps.map((step) => [step, marks[step] === undefined ? undefined : marks[step] - click]),
    );
  await alice.getByTestId('hangup-button').click();
  await Promise.all([alice.context().close(), bob.context().close()]);
  return {
    ringsMs: calleeProbe.marks.ringingShown - click,
    caller: since(caller.marks, CALLER_STEPS),
    callee: since(calleeProbe.marks, CALLEE_STEPS),
    calleeBeforeRinging: calleeProbe.beforeRinging,
    seenByPlaywright,
    clockOffsetMs: bobClock.offset - aliceClock.offset,
    clockErrorMs: bobClock.error + aliceClock.error,
  };
}

/** Nearest rank: the value at or below which the share p of the sorted values lies. */
function percentile(values, p) {
  const known = values.filter((v) => v !== undefined && !Number.isNaN(v)).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  return known[Math.min(known.length - 1, Math.ceil(known.length * p) - 1)];
}
const round1 = (ms) => (ms === undefined ? undefined : Math.round(ms * 10) / 10);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/**
 * Each pair dials `idleMs` after it is registered. One pair open at a time: pages waiting with
 * their microphones open would load the browser that the dialling pair runs in.
 */
async function series(label, idleMs = 0) {
  const loadBefore = load();
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const pair = await openPair(round, label);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    rounds.push(await firstCall(pair));
  }
  const p50 = (pick) => round1(percentile(rounds.map(pick), 0.5));
  const before = rounds.map((r) => r.calleeBeforeRinging);
  return {
    rings: {
      'dial → callee rings p50 ms': p50((r) => r.ringsMs),
      'p90 ms': round1(
        percentile(
          rounds.map((r) => r.ringsMs),
          0.9,
        ),
      ),
      max: round1(Math.max(...rounds.map((r) => r.ringsMs))),
      'seen by Playwright p50': p50((r) => r.seenByPlaywright),
      'load before': loadBefore,
      'load after': load(),
    },
    waterfall: {
      ...Object.fromEntries(CALLER_STEPS.map((step) => [`caller ${step}`, p50((r) => r.caller[step])])),
      ...Object.fromEntries(CALLEE_STEPS.map((step) => [`callee ${step}`, p50((r) => r.callee[step])])),
    },
    calleeMediaBeforeRinging: {
      getUserMedia: before.reduce((n, b) => n + b.getUserMedia, 0),
      peerConnections: before.reduce((n, b) => n + b.peerConnections, 0),
    },
    clock: {
      'offset p50 ms': round1(
        percentile(
          rounds.map((r) => r.clockOffsetMs),
          0.5,
        ),
      ),
      'max |offset| ms': round1(Math.max(...rounds.map((r) => Math.abs(r.clockOffsetMs)))),
      // What a read slowed by load cannot explain: how far an estimate goes beyond its own error.
      'max beyond read error ms': round1(
        Math.max(...rounds.map((r) => Math.max(0, Math.abs(r.clockOffsetMs) - r.clockErrorMs))),
      ),
      'read within ± ms (p50)': round1(
        percentile(
          rounds.map((r) => r.clockErrorMs),
          0.5,
        ),
      ),
    },
  };
}

// Not measured: the gateway's first call ever (its code compiled and caches filled on first use)
// is no page's first call; people meet a gateway that has been up for a while.
await firstCall(await openPair(0, 'warm-up'));
const results = { quiet: await series('q') };
// A bounded burner: one core busy for the whole loaded series.
const burner = startBusyCore();
try {
  results['one core busy'] = await series('l');
} finally {
  await burner.stop();
}
if (process.env.BENCH_MICROPHONE === '1') {
  results[`idle ${DEFAULT_WARM_MICROPHONE_MS / 3000} s, microphone warm`] = await series(
    'w',
    DEFAULT_WARM_MICROPHONE_MS / 3,
  );
  results[`idle ${DEFAULT_WARM_MICROPHONE_MS / 1000 + 2} s, microphone released`] = await series(
    'r',
    DEFAULT_WARM_MICROPHONE_MS + 2000,
  );
}
const chromiumVersion = browser.version();
await browser.close();
await gateway.stop();
console.log(
  `first call of freshly opened pages: press on Dial → callee's answer button shown, ${ROUNDS} rounds a series ` +
    '(after one unmeasured call through the gateway); ' +
    (process.env.BENCH_SOFTPHONE_DIR ? `page from ${process.env.BENCH_SOFTPHONE_DIR}; ` : '') +
    `Chromium ${chromiumVersion}, Node ${process.versions.node}, ${availableParallelism()} cores; ` +
    'STUN on a loopback port where nothing listens; ms after the press, on the pages’ clocks',
);
const section = (name) => Object.fromEntries(Object.entries(results).map(([label, r]) => [label, r[name]]));
/** A step a row, a series a column: the waterfalls side by side. */
const bySteps = (name) =>
  Object.fromEntries(
    Object.keys(results.quiet[name]).map((step) => [
      step,
      Object.fromEntries(Object.entries(results).map(([label, r]) => [label, r[name][step]])),
    ]),
  );
console.table(section('rings'));
console.log('waterfalls, p50 of each step, ms after the press on Dial (undefined: did not happen)');
console.table(bySteps('waterfall'));
console.table(section('calleeMediaBeforeRinging'));
console.table(section('clock'));
const quiet = results.quiet.rings;
const busy = results['one core busy'].rings;
console.log(`goal: p90 ≤ 150 ms quiet (${quiet['p90 ms']}), ≤ 300 ms with one core busy (${busy['p90 ms']})`);
console.log(
  JSON.stringify({
    p50Ms: quiet['dial → callee rings p50 ms'],
    p90Ms: quiet['p90 ms'],
    busyP90Ms: busy['p90 ms'],
  }),
);
