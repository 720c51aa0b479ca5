import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { callAndAnswer, expectText, registeredWithPassword, waitForAudio } from './support/softphone-app.js';

// Issue 25 §4 and §7, the gateway's side of a Kamailio cluster: UPSTREAM lists two nodes that
// replicate registrations over DMQ (-A WITH_DMQ). The gateway uses the first that answers its
// keep-alive OPTIONS and moves to the next when it stops answering; people who registered
// through the lost node are callable through the other at once, without registering again.
const SECRET = 'gateway-cluster-secret-0123456789';
const DOMAIN = 'ringway.test';
let nodeA: RunningKamailio;
let nodeB: RunningKamailio;
let gateway: RunningGateway;
let preferringB: RunningGateway;
let browser: Browser;

beforeAll(async () => {
  const [portA, portB] = [await freeUdpPort(), await freeUdpPort()];
  // Each node on an address of its own, as on two machines: a response sent to the wrong node
  // cannot be taken for that node's own.
  const peers = [`127.0.0.2:${portA}`, `127.0.0.3:${portB}`];
  nodeA = await startKamailio({
    secret: SECRET,
    sipDomain: DOMAIN,
    ip: '127.0.0.2',
    udpPort: portA,
    dmq: { peers, notify: peers[1] as string },
  });
  nodeB = await startKamailio({
    secret: SECRET,
    sipDomain: DOMAIN,
    ip: '127.0.0.3',
    udpPort: portB,
    dmq: { peers, notify: peers[0] as string },
  });
  const env = {
    AUTH_SECRET: SECRET,
    USERS_FILE: usersFileWith(['carol', 'dave', 'erin']),
    UPSTREAM_KEEPALIVE_MS: '200',
  };
  gateway = await startUpstreamGateway(`${nodeA.udp},${nodeB.udp}`, env);
  preferringB = await startUpstreamGateway(`${nodeB.udp},${nodeA.udp}`, env);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await preferringB?.close();
  await nodeA?.stop();
  await nodeB?.stop();
});

describe('gateways in front of two Kamailio nodes replicating over DMQ (UPSTREAM=a,b and b,a)', () => {
  it('connects a call between pages on gateways that prefer different nodes: each answer goes back to the node that asked', async () => {
    expect(preferringB.app.sip.upstream?.node).toBe(`udp:${nodeB.udp}`);
    const carol = await registeredWithPassword(
      browser,
      `http://127.0.0.1:${gateway.port}`,
      'carol',
      passwordOf('carol'),
    );
    const erin = await registeredWithPassword(
      browser,
      `http://127.0.0.1:${preferringB.port}`,
      'erin',
      passwordOf('erin'),
    );
    // carol → gateway → node A → (erin registered through node B, replicated) → the other
    // gateway → erin; erin's answers must reach node A, not the node that gateway prefers.
    await callAndAnswer(carol, erin, 'erin');
    expect(await waitForAudio(carol)).toBeGreaterThan(1000);
    expect(await waitForAudio(erin)).toBeGreaterThan(1000);
    await erin.getByTestId('hangup-button').click();
    await expectText(carol, 'call-state', /^ended/);
    await Promise.all([carol.context().close(), erin.context().close()]);
  }, 60_000);

  it('uses the first node; when it dies, moves to the second, where those who registered through the first are called with audio both ways', async () => {
    const relay = gateway.app.sip.upstream;
    expect(relay?.node).toBe(`udp:${nodeA.udp}`);
    const base = `http://127.0.0.1:${gateway.port}`;
    const carol = await registeredWithPassword(browser, base, 'carol', passwordOf('carol'));
    const dave = await registeredWithPassword(browser, base, 'dave', passwordOf('dave'));

    await nodeA.crash();
    const lost = Date.now();
    // Two keep-alive intervals and a second without an answer: the next node, which answers.
    await eventually(
      () => `${relay?.node} ${relay?.up}`,
      (state) => state === `udp:${nodeB.udp} true`,
      (state) => `still ${state}`,
    );
    console.info(`the gateway moved to node B ${Date.now() - lost} ms after node A died`);
    // Neither page registered again: node B knows both from node A's replication.
    await callAndAnswer(carol, dave, 'dave');
    console.info(`a new call connected ${Date.now() - lost} ms after node A died`);
    expect(await waitForAudio(carol)).toBeGreaterThan(1000);
    expect(await waitForAudio(dave)).toBeGreaterThan(1000);
    await Promise.all([carol.context().close(), dave.context().close()]);
  }, 60_000);
});
