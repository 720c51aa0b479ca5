import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import {
  callContact,
  contactLamp,
  registeredWithPassword,
  stopPhone,
  waitForAudio,
} from './support/softphone-app.js';

// Issue 16 §1 in upstream mode: the gateway relays, Kamailio's presence modules answer
// (kamailio-config with -A WITH_PRESENCE: pua_usrloc for registrations, dialog + pua_dialoginfo
// for calls). Three Ringway pages signed in with passwords; Carol watches Alice and Bob.
const SECRET = 'kamailio-presence-secret-0123456789';
let kamailio: RunningKamailio;
let gateway: RunningGateway;
let browser: Browser;

beforeAll(async () => {
  const usersFile = usersFileWith(['alice', 'bob', 'carol']);
  kamailio = await startKamailio({ secret: SECRET, sipDomain: 'ringway.test', presence: true });
  gateway = await startUpstreamGateway(kamailio.udp, { AUTH_SECRET: SECRET, USERS_FILE: usersFile });
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await kamailio?.stop();
});

const signedIn = (user: string) =>
  registeredWithPassword(browser, `http://127.0.0.1:${gateway.port}`, user, passwordOf(user));

describe('presence from Kamailio behind the gateway', () => {
  it('Carol sees Bob come online, ring, take a call, hang up and sign out', async () => {
    const carol = await signedIn('carol');
    await contactLamp(carol, 'bob', 'offline');
    const bob = await signedIn('bob');
    await contactLamp(carol, 'bob', 'online');
    const alice = await signedIn('alice');
    await contactLamp(carol, 'alice', 'online');

    await callContact(alice, 'bob');
    await contactLamp(carol, 'bob', 'ringing');
    await bob.getByTestId('answer-button').click({ timeout: 10_000 });
    await contactLamp(carol, 'bob', 'on-call');
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    expect(await waitForAudio(bob)).toBeGreaterThan(1000);

    await alice.getByTestId('hangup-button').click();
    await contactLamp(carol, 'bob', 'online');
    await stopPhone(bob);
    await contactLamp(carol, 'bob', 'offline');
    await Promise.all([alice, bob, carol].map((page) => page.context().close()));
  }, 90_000);
});
