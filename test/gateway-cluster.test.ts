import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { callAndAnswer, registeredWithPassword, waitForAudio } from './support/softphone-app.js';

// Issue 25 §4, the gateway's side: UPSTREAM lists the nodes of a Kamailio cluster; the gateway
// uses the first that answers its keep-alive OPTIONS and moves to the next when it stops answering.
const SECRET = 'gateway-cluster-secret-0123456789';
let nodeA: RunningKamailio;
let nodeB: RunningKamailio | undefined;
let gateway: RunningGateway;
let browser: Browser;

beforeAll(async () => {
  nodeA = await startKamailio({ secret: SECRET, sipDomain: 'ringway.test' });
  nodeB = await startKamailio({ secret: SECRET, sipDomain: 'ringway.test' });
  gateway = await startUpstreamGateway(`${nodeA.udp},${nodeB.udp}`, {
    AUTH_SECRET: SECRET,
    USERS_FILE: usersFileWith(['carol', 'dave']),
    UPSTREAM_KEEPALIVE_MS: '200',
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await nodeA?.stop();
  await nodeB?.stop();
});

describe('a gateway in front of two Kamailio nodes (UPSTREAM=a,b)', () => {
  it('uses the first node, moves to the second when the first is gone, and people sign in and call through it', async () => {
    const relay = gateway.app.sip.upstream;
    expect(relay?.node).toBe(`udp:${nodeA.udp}`);
    await nodeA.stop();
    // Two intervals and a second without an answer: the next node, which answers.
    await eventually(
      () => `${relay?.node} ${relay?.up}`,
      (state) => state === `udp:${nodeB?.udp} true`,
      (state) => `still ${state}`,
    );
    const base = `http://127.0.0.1:${gateway.port}`;
    const carol = await registeredWithPassword(browser, base, 'carol', passwordOf('carol'));
    const dave = await registeredWithPassword(browser, base, 'dave', passwordOf('dave'));
    await callAndAnswer(carol, dave, 'dave');
    expect(await waitForAudio(carol)).toBeGreaterThan(1000);
    expect(await waitForAudio(dave)).toBeGreaterThan(1000);
    await Promise.all([carol.context().close(), dave.context().close()]);
  }, 60_000);
});
