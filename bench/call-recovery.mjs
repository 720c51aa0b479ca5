// Part of npm run bench:call — a live call between two Ringway softphone pages while the gateway
// (the `npm start` bundle, in a process of its own) is killed with SIGKILL and started again
// after an outage: how long from the gateway being back until both calls are "active" again,
// and the longest pause in received audio (inbound RTP bytes polled every 20 ms on both pages).
// Goal: ≤ 2 s from the gateway being back.
import { freeTcpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { gatewayCommand } from './lib/gateway-process.mjs';
import { startServer } from './lib/processes.mjs';
import { openRingwayPage } from './lib/ringway-page.mjs';

const OUTAGE_MS = 500;

/** In the page: records when inbound audio bytes grew, every 20 ms. */
function watchAudio() {
  const log = [];
  window.audioLog = log;
  let last = 0;
  setInterval(async () => {
    const pc = window.ringway.current()?.peerConnection;
    if (!pc) return;
    let bytes = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') bytes += r.bytesReceived ?? 0;
    });
    if (bytes > last) log.push(Date.now());
    last = bytes;
  }, 20);
}

/** In the page: resolves with Date.now() when the current call is next "active"; rejects if it ends. */
function nextActive() {
  return new Promise((resolve, reject) => {
    const call = window.ringway.current();
    const listener = (state) => {
      if (state === 'ended' || state === 'failed')
        reject(new Error(`the call ${state}: ${call.endReason?.text}`));
      if (state !== 'active') return;
      call.stateChange.removeListener(listener);
      resolve(Date.now());
    };
    call.stateChange.addListener(listener);
  });
}

export async function measureCallRecovery(browser, trials) {
  const port = await freeTcpPort();
  const env = { PORT: String(port) };
  let gateway = await startServer(process.execPath, gatewayCommand, { port, env });
  const open = (user) => openRingwayPage(browser, port, user);
  const caller = await open('rec-a');
  const callee = await open('rec-b');
  await callee.evaluate(() => window.ringway.phone().incomingCall.addListener((call) => void call.answer()));
  await caller.evaluate(() => window.ringway.phone().dial('rec-b'));
  for (const page of [caller, callee]) {
    await page.waitForFunction(() => window.ringway.current()?.state === 'active');
    await page.evaluate(watchAudio);
  }
  const results = [];
  for (let i = 0; i < trials; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const actives = [caller, callee].map((page) => page.evaluate(nextActive));
    const killedAt = Date.now();
    await gateway.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    gateway = await startServer(process.execPath, gatewayCommand, { port, env });
    const backAt = Date.now();
    const activeAt = Math.max(...(await Promise.all(actives)));
    await new Promise((r) => setTimeout(r, 1000));
    let gap = 0;
    for (const page of [caller, callee]) {
      const log = await page.evaluate(() => window.audioLog);
      const window_ = log.filter((t) => t >= killedAt - 1000);
      for (let k = 1; k < window_.length; k++) gap = Math.max(gap, window_[k] - window_[k - 1]);
    }
    results.push({ backToActive: activeAt - backAt, longestAudioPause: gap });
  }
  await caller.context().close();
  await callee.context().close();
  await gateway.stop();
  return results;
}
