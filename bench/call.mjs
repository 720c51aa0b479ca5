// npm run bench:call — dial → active (SIP established and media connected) between two Chromium
// pages through the gateway: the Ringway softphone against plain SIP.js with its default options,
// in the same run, with no ICE servers and with a STUN server on a loopback port where nothing
// listens. The callee answers as soon as the INVITE arrives. Then a live call through gateway
// restarts (call-recovery.mjs). Runs inside a lo-only namespace (see package.json), so every
// packet stays on loopback.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildApp, loadConfig } from '../packages/gateway/dist/index.js';
import { freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { measureCallRecovery } from './call-recovery.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { openRingwayPage } from './lib/ringway-page.mjs';
import { median } from './lib/statistics.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const CALLS = Number(process.env.BENCH_CALLS ?? 10);

/** A page with plain SIP.js (bundled as is) and the thin driver the tests use. */
async function plainSipjsServer() {
  const bundle = await build({
    entryPoints: [join(dirname(require.resolve('sip.js')), 'index.js')],
    bundle: true,
    format: 'iife',
    globalName: 'SIP',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const files = {
    '/sip.js': bundle.outputFiles[0].text,
    '/browser-phone.js': readFileSync(join(here, '..', 'test', 'support', 'browser-phone.js'), 'utf8'),
    '/': '<!doctype html><meta charset="utf-8"><script src="/sip.js"></script><script src="/browser-phone.js"></script>',
  };
  const server = createServer((req, res) => res.end(files[req.url] ?? ''));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

async function startGateway(iceServers) {
  const config = loadConfig({
    PORT: '0',
    SIP_DOMAIN: '127.0.0.1',
    ICE_SERVERS: JSON.stringify(iceServers),
    SOFTPHONE_DIR: join(here, '..', 'packages', 'softphone', 'dist', 'page'),
  });
  const app = await buildApp(config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: app.server.address().port };
}

async function ringwayPair(browser, port, n) {
  const open = (user) => openRingwayPage(browser, port, user);
  const [caller, callee] = [await open(`rw-a${n}`), await open(`rw-b${n}`)];
  await callee.evaluate(() => window.ringway.phone().incomingCall.addListener((call) => void call.answer()));
  return {
    caller,
    callee,
    dialToActive: (target) =>
      caller.evaluate(
        (t) =>
          new Promise((resolve, reject) => {
            const started = performance.now();
            const call = window.ringway.phone().dial(t);
            call.stateChange.addListener((state) => {
              if (state === 'active') {
                const ms = performance.now() - started;
                void call.hangup().then(() => resolve(ms));
              } else if (state === 'failed') reject(new Error(call.endReason.text));
            });
          }),
        target,
      ),
  };
}

async function plainPair(browser, pageUrl, port, iceServers, n) {
  const ws = `ws://127.0.0.1:${port}/sip`;
  const open = async (user) => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(pageUrl);
    await page.evaluate(
      ([u, w, ice]) => window.phone.start('sipjs', u, w, '127.0.0.1', ice),
      [user, ws, iceServers],
    );
    return page;
  };
  const [caller, callee] = [await open(`sj-a${n}`), await open(`sj-b${n}`)];
  await callee.evaluate(() => {
    const answerNext = () => window.phone.answer().then(answerNext, answerNext);
    void answerNext();
  });
  return {
    caller,
    callee,
    dialToActive: (target) =>
      caller.evaluate(async (t) => {
        const started = performance.now();
        await window.phone.dial(t);
        await new Promise((resolve, reject) => {
          const poll = () => {
            if (window.phone.established() && window.phone.mediaConnected()) resolve();
            else if (performance.now() - started > 30000) reject(new Error('no media in 30 s'));
            else setTimeout(poll, 2);
          };
          poll();
        });
        const ms = performance.now() - started;
        await window.phone.hangup();
        return ms;
      }, target),
  };
}

const p90 = (values) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.9))];

const browser = await launchChromium();
const plainPage = await plainSipjsServer();
const results = {};
let n = 0;
for (const [scenario, iceServers] of [
  ['no ICE servers', []],
  [
    'unreachable STUN (loopback port, nothing listening)',
    [{ urls: `stun:127.0.0.1:${await freeUdpPort()}` }],
  ],
]) {
  const gateway = await startGateway(iceServers);
  for (const [name, pair] of [
    ['Ringway softphone', await ringwayPair(browser, gateway.port, ++n)],
    ['plain SIP.js, default options', await plainPair(browser, plainPage.url, gateway.port, iceServers, ++n)],
  ]) {
    const target = name.startsWith('Ringway') ? `sip:rw-b${n - 1}@127.0.0.1` : `sip:sj-b${n}@127.0.0.1`;
    const times = [];
    for (let i = 0; i < CALLS; i++) {
      times.push(await pair.dialToActive(target));
      await new Promise((r) => setTimeout(r, 200));
    }
    results[`${name} — ${scenario}`] = {
      'median ms': Math.round(median(times)),
      'p90 ms': Math.round(p90(times)),
      calls: CALLS,
    };
    await pair.caller.context().close();
    await pair.callee.context().close();
  }
  await gateway.app.close();
}
const recovery = await measureCallRecovery(browser, Number(process.env.BENCH_RESTARTS ?? 5));
await browser.close();
plainPage.close();
console.log('dial → active (SIP established and media connected), Chromium ↔ Chromium through the gateway');
console.table(results);
console.log('goal: ≤ 150 ms for the Ringway softphone in both cases');
console.log(
  `a live call while the gateway is killed (SIGKILL) and started again ${recovery.length} times, 500 ms outage`,
);
console.table(
  recovery.map((r) => ({
    'gateway back → both calls active, ms': r.backToActive,
    'longest pause in received audio, ms': r.longestAudioPause,
  })),
);
console.log(
  `median gateway back → active: ${median(recovery.map((r) => r.backToActive))} ms (goal ≤ 2000 ms); longest audio pause: ${Math.max(...recovery.map((r) => r.longestAudioPause))} ms`,
);
