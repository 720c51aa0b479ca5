import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { StartedServer } from '../bench/lib/processes.mjs';
import { freeTcpPort, freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { type RunningRedis, startRedis } from '../packages/gateway/test/support/redis.js';
import { launchChromium } from './support/chromium.js';
import { startGatewayProcess } from './support/gateway-process.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { withLogsOnFailure } from './support/logs-on-failure.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import {
  audioBytesReceived,
  audioGrowsBeyond,
  callAndAnswer,
  expectText,
  registeredWithPassword,
  waitForAudio,
} from './support/softphone-app.js';

// Issue 25 §2, §3 and §7: two gateways as one edge in front of Kamailio. Alice's page is on
// gateway 1, Bob's on gateway 2; they talk; gateway 1 dies (SIGKILL). Alice's phone moves to
// gateway 2 (WS_SERVERS) and restarts its media with a re-INVITE whose route names gateway 1,
// which gateway 2 takes as its own (PEER_GATEWAYS); Kamailio sends what comes for Alice to
// gateway 2 once gateway 1 stops answering (-A WITH_GATEWAYS, dispatcher set 2), where her new
// connection is found by her contact (RFC 5626 flow recovery).
const SECRET = 'gateway-loss-secret-0123456789';
const SIP_DOMAIN = 'ringway.test';
let kamailio: RunningKamailio;
let redis: RunningRedis;
let browser: Browser;
const gateways: StartedServer[] = [];
const httpPorts: number[] = [];
const upstreamPorts: number[] = [];
/** Each gateway's settings, to start it again after a test killed it. */
const gatewayEnvs: Record<string, string>[] = [];

const wsUrl = (port: number) => `ws://127.0.0.1:${port}/sip`;
const pageUrl = (port: number) => `http://127.0.0.1:${port}`;

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    httpPorts.push(await freeTcpPort());
    upstreamPorts.push(await freeUdpPort());
  }
  const upstreamSides = upstreamPorts.map((port) => `127.0.0.1:${port}`);
  kamailio = await startKamailio({
    secret: SECRET,
    sipDomain: SIP_DOMAIN,
    gateways: upstreamSides,
    gatewayPingInterval: 1,
    gatewayTimeoutMs: 1000,
  });
  const usersFile = usersFileWith(['alice', 'bob', 'carol']);
  // Call links live in Redis, shared by the gateways: created on one, joined on another.
  redis = await startRedis();
  for (const [i, port] of httpPorts.entries()) {
    gatewayEnvs.push({
      UPSTREAM: kamailio.udp,
      UPSTREAM_LOCAL_PORT: String(upstreamPorts[i]),
      PEER_GATEWAYS: upstreamSides.filter((_, other) => other !== i).join(','),
      WS_SERVERS: httpPorts.map(wsUrl).join(','),
      SIP_DOMAIN,
      AUTH_SECRET: SECRET,
      USERS_FILE: usersFile,
      REDIS_URL: redis.url,
      // One process each (with Redis the default is one per core): every upstream side is named.
      WORKERS: '1',
    });
    gateways.push(await startGatewayProcess(port, gatewayEnvs[i] as Record<string, string>));
  }
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const gateway of gateways) await gateway.stop();
  await kamailio?.stop();
  redis?.stop();
});

describe('a live call when the gateway of one side dies (two gateways, one Kamailio)', () => {
  it('comes back through the other gateway with audio both ways, and Bob’s hang-up reaches Alice there', async () => {
    const [first, second] = httpPorts as [number, number];
    const alice = await registeredWithPassword(browser, pageUrl(first), 'alice', passwordOf('alice'));
    const bob = await registeredWithPassword(browser, pageUrl(second), 'bob', passwordOf('bob'));
    await callAndAnswer(alice, bob, 'bob');
    await audioGrowsBeyond(alice, 0);
    await audioGrowsBeyond(bob, 0);

    await gateways[0]?.kill('SIGKILL');
    await expectText(alice, 'call-state', 'reconnecting');
    const before = await Promise.all([audioBytesReceived(alice), audioBytesReceived(bob)]);
    const lost = Date.now();
    await expectText(alice, 'server', wsUrl(second), 15_000);
    await expectText(alice, 'call-state', 'active', 20_000);
    console.info(`alice's call active again through gateway 2 ${Date.now() - lost} ms after gateway 1 died`);
    await audioGrowsBeyond(alice, before[0] as number);
    await audioGrowsBeyond(bob, before[1] as number);

    // Bob hangs up: his BYE for alice goes to gateway 1 (the dialog's route), which is gone, so
    // Kamailio takes it to gateway 2, which finds her.
    await bob.getByTestId('hangup-button').click();
    await expectText(alice, 'call-state', 'ended: the other side hung up', 15_000);
  }, 90_000);
});

describe('a call link across the gateways (sessions in Redis)', () => {
  it('created on gateway 1, joined on gateway 2: the call starts by itself with audio both ways', async () => {
    const [first, second] = httpPorts as [number, number];
    // Gateway 1 again (the test above killed it).
    gateways.push(await startGatewayProcess(first, gatewayEnvs[0] as Record<string, string>));
    const carol = await withLogsOnFailure({ kamailio: kamailio.log }, () =>
      registeredWithPassword(browser, pageUrl(first), 'carol', passwordOf('carol')),
    );
    await carol.getByTestId('signed-in-start-link-button').click();
    await expectText(carol, 'session-state', 'waiting');
    // The guest opens the link at the other gateway (as a load balancer may send them there).
    const link = new URL(await carol.getByTestId('join-url').inputValue());
    expect(link.port).toBe(String(first));
    link.port = String(second);
    const guest = await (await browser.newContext()).newPage();
    await guest.goto(link.href);
    // The session follows its call on either gateway: each relay tells its clients' calls.
    for (const page of [carol, guest]) {
      await expectText(page, 'session-state', 'connected', 20_000);
      await expectText(page, 'call-state', 'active');
    }
    expect(await waitForAudio(carol)).toBeGreaterThan(1000);
    expect(await waitForAudio(guest)).toBeGreaterThan(1000);
    await guest.getByTestId('hangup-button').click();
    await expectText(carol, 'session-state', 'ended');
    await Promise.all([carol.context().close(), guest.context().close()]);
  }, 60_000);
});
