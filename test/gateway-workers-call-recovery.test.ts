import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { gatewayCommand } from '../bench/lib/gateway-process.mjs';
import { type StartedServer, startServer } from '../bench/lib/processes.mjs';
import { freeTcpPort, freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { launchChromium } from './support/chromium.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import {
  audioBytesReceived,
  audioGrowsBeyond,
  callAndAnswer,
  expectText,
  registeredWithPassword,
} from './support/softphone-app.js';

// Issue 25 §2: a live call through a gateway of two workers in front of Kamailio, as compose runs
// it, while the gateway restarts. The pages reconnect to whichever worker the port hands them;
// the dialog's Record-Routes name the workers of before. Each worker takes its siblings' dialogs
// as its own and hands a request for a client it does not carry to the other (sibling-workers.ts).
// Before that, a call came back only when both pages happened to land on their old workers.
const SECRET = 'workers-recovery-secret-0123456789';
const RESTARTS = 4;
let kamailio: RunningKamailio;
let gateway: StartedServer | undefined;
let browser: Browser;
let port: number;
let upstreamBase: number;
let usersFile: string;

const startGateway = async () => {
  gateway = await startServer(process.execPath, gatewayCommand, {
    port,
    env: {
      PORT: String(port),
      WORKERS: '2',
      UPSTREAM: kamailio.udp,
      UPSTREAM_LOCAL_PORT: String(upstreamBase),
      AUTH_SECRET: SECRET,
      USERS_FILE: usersFile,
      SIP_DOMAIN: 'ringway.test',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '300',
    },
  });
};

beforeAll(async () => {
  kamailio = await startKamailio({ secret: SECRET, sipDomain: 'ringway.test' });
  port = await freeTcpPort();
  // Worker i's upstream side is this port + i (the next one is free as likely as any).
  upstreamBase = await freeUdpPort();
  usersFile = usersFileWith(['alice', 'bob']);
  await startGateway();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await kamailio?.stop();
});

describe('a live call through a restart of a gateway of two workers, in front of Kamailio', () => {
  it(`comes back with audio both ways after each of ${RESTARTS} restarts, whichever worker each page lands on`, async () => {
    const base = `http://127.0.0.1:${port}`;
    const alice = await registeredWithPassword(browser, base, 'alice', passwordOf('alice'));
    const bob = await registeredWithPassword(browser, base, 'bob', passwordOf('bob'));
    await callAndAnswer(alice, bob, 'bob');
    await audioGrowsBeyond(alice, 0);
    await audioGrowsBeyond(bob, 0);
    for (let restart = 1; restart <= RESTARTS; restart++) {
      await gateway?.stop();
      await expectText(alice, 'call-state', 'reconnecting');
      await expectText(bob, 'call-state', 'reconnecting');
      const before = await Promise.all([audioBytesReceived(alice), audioBytesReceived(bob)]);
      await startGateway();
      await expectText(alice, 'call-state', 'active', 20_000);
      await expectText(bob, 'call-state', 'active', 20_000);
      await audioGrowsBeyond(alice, before[0] as number);
      await audioGrowsBeyond(bob, before[1] as number);
    }
    await alice.getByTestId('hangup-button').click();
    await expectText(bob, 'call-state', /ended|idle/);
  }, 180_000);
});
