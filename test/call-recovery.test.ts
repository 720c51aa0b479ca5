import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { gatewayCommand } from '../bench/lib/gateway-process.mjs';
import { type StartedServer, startServer } from '../bench/lib/processes.mjs';
import { freeTcpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { launchChromium } from './support/chromium.js';
import {
  audioBytesReceived,
  audioGrowsBeyond,
  callAndAnswer,
  expectText,
  openSoftphone,
} from './support/softphone-app.js';

// A live call between two of Ringway's softphone pages while the gateway (the very bundle
// `npm start` runs, in a process of its own) goes away and comes back: the call must recover
// its media by itself. Then one-way audio is made on purpose, and the quality reports must
// reach the gateway's metrics.
let browser: Browser;
let port: number;
let gateway: StartedServer | undefined;
let alice: Page;
let bob: Page;

const startGateway = async () => {
  gateway = await startServer(process.execPath, gatewayCommand, {
    port,
    env: { PORT: String(port), LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '300' },
  });
};

beforeAll(async () => {
  port = await freeTcpPort();
  await startGateway();
  browser = await launchChromium();
  alice = await openSoftphone(browser, `http://127.0.0.1:${port}`, 'alice');
  bob = await openSoftphone(browser, `http://127.0.0.1:${port}`, 'bob');
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
});

describe('a live call through a gateway restart', () => {
  it('is set up, media both ways', async () => {
    await callAndAnswer(alice, bob, 'bob');
    await audioGrowsBeyond(alice, 0);
    await audioGrowsBeyond(bob, 0);
  }, 30_000);

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'gateway stopped with %s and started again: both pages go reconnecting → active and audio flows again',
    async (signal) => {
      await gateway?.kill(signal);
      await expectText(alice, 'call-state', 'reconnecting');
      await expectText(bob, 'call-state', 'reconnecting');
      const before = await Promise.all([audioBytesReceived(alice), audioBytesReceived(bob)]);
      await startGateway();
      const back = Date.now();
      await expectText(alice, 'call-state', 'active', 20_000);
      await expectText(bob, 'call-state', 'active', 20_000);
      const active = Date.now() - back;
      await audioGrowsBeyond(alice, before[0] as number);
      await audioGrowsBeyond(bob, before[1] as number);
      console.info(`${signal}: gateway back → both calls active again in ${active} ms`);
      const steps = await alice.getByTestId('call-waterfall').textContent();
      expect(steps).toMatch(/reconnecting: \d+ ms.*reconnected: \d+ ms/s);
    },
    40_000,
  );

  it('a network change reported by the browser (online event): the page reconnects at once and the call restarts its media', async () => {
    const before = await audioBytesReceived(bob);
    await alice.evaluate(() => window.dispatchEvent(new Event('online')));
    await expectText(alice, 'call-state', 'reconnecting');
    await expectText(alice, 'call-state', 'active', 10_000);
    await audioGrowsBeyond(bob, before);
    await audioGrowsBeyond(alice, await audioBytesReceived(alice));
  }, 30_000);

  it('says "no input" when the microphone sends silence, and "no output" when the far end stops sending', async () => {
    // Alice's microphone becomes digital silence: packets still go, with no energy in them.
    await alice.evaluate(() => {
      const ringway = (window as unknown as { ringway: { current(): { peerConnection: RTCPeerConnection } } })
        .ringway;
      // A running graph whose output is zeros: a microphone that works and hears nothing.
      const context = new AudioContext();
      const destination = context.createMediaStreamDestination();
      const oscillator = context.createOscillator();
      const mute = context.createGain();
      mute.gain.value = 0;
      oscillator.connect(mute).connect(destination);
      oscillator.start();
      const sender = ringway
        .current()
        .peerConnection.getSenders()
        .find((s) => s.track?.kind === 'audio');
      return context
        .resume()
        .then(() => sender?.replaceTrack(destination.stream.getAudioTracks()[0] as MediaStreamTrack));
    });
    await expectText(alice, 'call-warning', /no input: your microphone is silent/, 10_000);
    // Bob stops sending altogether.
    await bob.evaluate(() => {
      const ringway = (window as unknown as { ringway: { current(): { peerConnection: RTCPeerConnection } } })
        .ringway;
      const sender = ringway
        .current()
        .peerConnection.getSenders()
        .find((s) => s.track?.kind === 'audio');
      return sender?.replaceTrack(null);
    });
    await expectText(alice, 'call-warning', /no output: no audio arrives/, 10_000);
  }, 30_000);

  it('hang-up: both quality reports reach the gateway’s metrics', async () => {
    await alice.getByTestId('hangup-button').click();
    await expectText(alice, 'call-state', /^ended/);
    await expectText(bob, 'call-state', /^ended/);
    const deadline = Date.now() + 5000;
    let metrics = '';
    while (!metrics.includes('ringway_call_quality_reports_total{direction="incoming"} 1')) {
      if (Date.now() > deadline) throw new Error(`no reports in the metrics:\n${metrics}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    }
    expect(metrics).toContain('ringway_call_quality_reports_total{direction="outgoing"} 1');
    // Both sides lived through two restarts, and Alice through a network change.
    expect(metrics).toContain('ringway_call_reconnects_total 5');
    expect(metrics).toMatch(/ringway_call_reconnect_seconds_count 5/);
    expect(metrics).toMatch(/ringway_call_warnings_total\{kind="no-input"\} [12]/);
    expect(metrics).toMatch(/ringway_call_warnings_total\{kind="no-output"\} [12]/);
    expect(metrics).toMatch(/ringway_call_mos_count 2/);
    const history = await alice.getByTestId('history-list').textContent();
    expect(history).toMatch(/3 reconnection\(s\)/);
  }, 20_000);
});
