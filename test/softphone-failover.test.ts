import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { StartedServer } from '../bench/lib/processes.mjs';
import { freeTcpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { launchChromium } from './support/chromium.js';
import { startGatewayProcess } from './support/gateway-process.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { callAndAnswer, expectText, registeredWithPassword, waitForAudio } from './support/softphone-app.js';

// Issue 25 §3: two gateways in upstream mode in front of one Kamailio, each handing the page
// both SIP WebSockets (WS_SERVERS). When the gateway a page is on dies, the page's phone moves to
// the other one, registers there and can be called again. Each gateway is the bundle `npm start`
// runs, in a process of its own, so that it can die as a crash does (SIGKILL: no close frame).
const SECRET = 'softphone-failover-secret-0123456789';
const SIP_DOMAIN = 'ringway.test';
let kamailio: RunningKamailio;
let browser: Browser;
const gateways: StartedServer[] = [];
const ports: number[] = [];

const wsUrl = (port: number) => `ws://127.0.0.1:${port}/sip`;
const pageUrl = (port: number) => `http://127.0.0.1:${port}`;

async function startGateway(port: number, env: Record<string, string>): Promise<void> {
  gateways.push(await startGatewayProcess(port, env));
}

beforeAll(async () => {
  kamailio = await startKamailio({ secret: SECRET, sipDomain: SIP_DOMAIN });
  // Each gateway names both, itself included: both ports are needed before either starts.
  ports.push(await freeTcpPort());
  do ports[1] = await freeTcpPort();
  while (ports[1] === ports[0]);
  const env = {
    UPSTREAM: kamailio.udp,
    SIP_DOMAIN,
    AUTH_SECRET: SECRET,
    USERS_FILE: usersFileWith(['alice', 'bob']),
    WS_SERVERS: ports.map(wsUrl).join(','),
  };
  for (const port of ports) await startGateway(port, env);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const gateway of gateways) await gateway.stop();
  await kamailio?.stop();
});

describe('a page whose gateway dies (WS_SERVERS lists two)', () => {
  it('moves to the other gateway, registers there, and a new call reaches it with audio both ways', async () => {
    const [first, second] = ports as [number, number];
    const alice = await registeredWithPassword(browser, pageUrl(first), 'alice', passwordOf('alice'));
    const bob = await registeredWithPassword(browser, pageUrl(second), 'bob', passwordOf('bob'));
    await expectText(alice, 'server', wsUrl(first));
    await expectText(bob, 'server', wsUrl(second));

    await gateways[0]?.kill('SIGKILL');
    await expectText(alice, 'registration-state', 'reconnecting');
    const lost = Date.now();
    await expectText(alice, 'registration-state', 'registered', 15_000);
    const registeredAfterMs = Date.now() - lost;
    await expectText(alice, 'server', wsUrl(second));

    await callAndAnswer(bob, alice, 'alice');
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    expect(await waitForAudio(bob)).toBeGreaterThan(1000);
    console.log(`alice registered through the second gateway ${registeredAfterMs} ms after the first died`);
    await Promise.all([alice.context().close(), bob.context().close()]);
  }, 90_000);
});
