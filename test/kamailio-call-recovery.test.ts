import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { gatewayCommand } from '../bench/lib/gateway-process.mjs';
import { type StartedServer, startServer } from '../bench/lib/processes.mjs';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import { freeTcpPort, freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { audioFlows, startSoftphonePages } from './support/softphone-pages.js';

// Upstream mode: a live call between two of Ringway's phones through gateway → Kamailio while the
// gateway (the `npm start` bundle, a process of its own) is killed with SIGKILL and started
// again. With UPSTREAM_LOCAL_PORT the new process is where Kamailio's Paths and Record-Routes
// point; the old flow tokens are gone, and requests inside the call find each client's new
// connection by its contact.
const SECRET = 'kamailio-recovery-secret-0123456789';
let kamailio: RunningKamailio;
let gateway: StartedServer | undefined;
let browser: Awaited<ReturnType<typeof startSoftphonePages>>;
let env: Record<string, string>;
let port: number;

const startGateway = async () => {
  gateway = await startServer(process.execPath, gatewayCommand, { port, env });
};

beforeAll(async () => {
  kamailio = await startKamailio({ secret: SECRET, sipDomain: 'ringway.test' });
  port = await freeTcpPort();
  env = {
    PORT: String(port),
    LOG_LEVEL: 'warn',
    SIP_DOMAIN: 'ringway.test',
    UPSTREAM: kamailio.udp,
    UPSTREAM_LOCAL_PORT: String(await freeUdpPort()),
  };
  await startGateway();
  browser = await startSoftphonePages();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await kamailio?.stop();
});

async function callState(page: Page, expected: string): Promise<void> {
  await eventually(
    () => page.evaluate(() => window.phone.callState()),
    (state) => state === expected,
    (state) => `call state "${state}", expected "${expected}"`,
    { ms: 15_000, everyMs: 25 },
  );
}

describe('upstream mode: a live call through a gateway restart (SIGKILL)', () => {
  it('recovers by itself: both phones reconnecting → active, and audio flows again both ways', async () => {
    const credential = (user: string) => {
      const issued = issueEphemeralCredential(SECRET, user, 300);
      return { username: issued.username, password: issued.password };
    };
    const wsUrl = `ws://127.0.0.1:${port}/sip`;
    const alice = await browser.phone('ringway', 'alice-k', wsUrl, credential('alice-k'));
    const bob = await browser.phone('ringway', 'bob-k', wsUrl, credential('bob-k'));
    await alice.evaluate(() => window.phone.dial('sip:bob-k@ringway.test'));
    await bob.evaluate(() => window.phone.answer());
    await callState(alice, 'active');
    await callState(bob, 'active');
    const before = [await audioFlows(alice), await audioFlows(bob)];

    await gateway?.kill('SIGKILL');
    await callState(alice, 'reconnecting');
    await callState(bob, 'reconnecting');
    await startGateway();
    await callState(alice, 'active');
    await callState(bob, 'active');
    expect(await audioFlows(alice, (before[0] as number) + 2000)).toBeGreaterThan(before[0] as number);
    expect(await audioFlows(bob, (before[1] as number) + 2000)).toBeGreaterThan(before[1] as number);
    await alice.evaluate(() => window.phone.hangup());
  }, 60_000);
});
