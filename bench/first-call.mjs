// npm run bench:first-call — the call a person mostly makes: the first one of a freshly opened
// page. Each round opens Ringway's page as alice and as bob in new browser contexts (?user=,
// loopback development mode), waits for "registered", dials bob at once through the page's
// data-testids, and measures dial → bob's answer button visible, with the caller's own
// waterfall (dial → ringing: the caller receives the 180). STUN is configured on a loopback port where nothing listens (a server that never
// answers). Quiet, then with a CPU burner on one core. Then the microphone's cost: pairs left
// alone for a third of the phone's quiet period (DEFAULT_WARM_MICROPHONE_MS: the microphone still
// open) against pairs left alone past it (released: the call waits for getUserMedia), so that
// nothing but the microphone differs. Runs in the lo-only test namespace.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { DEFAULT_WARM_MICROPHONE_MS } from '../packages/softphone/dist/lib/index.js';
import { launchChromium } from './lib/chromium.mjs';
import { gatewayCommand } from './lib/gateway-process.mjs';
import { startBusyCore, startServer } from './lib/processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

// The gateway as `npm start` runs it, in a process of its own (as people run it).
const port = await freeTcpPort();
const gateway = await startServer(process.execPath, gatewayCommand, {
  port,
  env: {
    PORT: String(port),
    SIP_DOMAIN: '127.0.0.1',
    ICE_SERVERS: JSON.stringify([{ urls: `stun:127.0.0.1:${await freeUdpPort()}` }]),
    SOFTPHONE_DIR: join(here, '..', 'packages', 'softphone', 'dist', 'page'),
  },
});
const base = `http://127.0.0.1:${port}`;
const browser = await launchChromium();

async function open(user) {
  const page = await (await browser.newContext()).newPage();
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

/** The first call from alice's page: dial → bob sees the answer button. */
async function firstCall({ alice, bob, callee }) {
  await alice.getByTestId('dial-input').fill(callee);
  const dialed = performance.now();
  await alice.getByTestId('dial-button').click();
  // As Playwright sees it: its polling adds to the page's own time.
  await bob.getByTestId('answer-button').waitFor({ state: 'visible' });
  const ringingMs = performance.now() - dialed;
  // Under load the 180 may reach alice after bob's page shows the call: a round without it read
  // as NaN, which no percentile can sort.
  await alice.waitForFunction(() => globalThis.ringway.current()?.waterfall.get('ringing') !== undefined);
  const waterfall = await alice.evaluate(() =>
    Object.fromEntries(globalThis.ringway.current()?.waterfall.entries() ?? []),
  );
  await alice.getByTestId('hangup-button').click();
  await Promise.all([alice.context().close(), bob.context().close()]);
  return { ringingMs, waterfall };
}

const percentile = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length - 1) * p))];

/**
 * Each pair dials `idleMs` after it is registered. One pair open at a time: pages waiting with
 * their microphones open would load the browser that the dialling pair runs in.
 */
async function series(label, idleMs = 0) {
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const pair = await openPair(round, label);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    rounds.push(await firstCall(pair));
  }
  const step = (name) => rounds.map((r) => r.waterfall[name] ?? Number.NaN);
  return {
    'dial → ringing p50 ms': percentile(step('ringing'), 0.5),
    'p90 ms': percentile(step('ringing'), 0.9),
    'offerReady p50': percentile(step('offerReady'), 0.5),
    'inviteSent p50': percentile(step('inviteSent'), 0.5),
    'trying p50': percentile(step('trying'), 0.5),
    'answer button seen p50': Math.round(
      percentile(
        rounds.map((r) => r.ringingMs),
        0.5,
      ),
    ),
  };
}

const quiet = await series('q');
// A bounded burner: one core busy for the whole loaded series.
const burner = startBusyCore();
let loaded;
try {
  loaded = await series('l');
} finally {
  await burner.stop();
}
const idleWarm = await series('w', DEFAULT_WARM_MICROPHONE_MS / 3);
const released = await series('r', DEFAULT_WARM_MICROPHONE_MS + 2000);
await browser.close();
await gateway.stop();
console.log(
  `first call of a freshly opened page, ${ROUNDS} rounds each; STUN on a loopback port where nothing listens`,
);
console.table({
  quiet,
  'one core busy': loaded,
  [`idle ${DEFAULT_WARM_MICROPHONE_MS / 3000} s, microphone warm`]: idleWarm,
  [`idle ${DEFAULT_WARM_MICROPHONE_MS / 1000 + 2} s, microphone released`]: released,
});
console.log(`goal: p90 ≤ 150 ms quiet (${quiet['p90 ms']}), ≤ 300 ms loaded (${loaded['p90 ms']})`);
