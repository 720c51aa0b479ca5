import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import {
  metricLines,
  type RunningGateway,
  startUpstreamGateway,
} from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { withLogsOnFailure } from './support/logs-on-failure.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { registeredWithPassword } from './support/softphone-app.js';
import { UdpSipPhone } from './support/udp-sip-phone.js';

// Issue 25 item 5: when a page's WebSocket closes, the gateway unregisters that flow's contacts
// at Kamailio itself (REGISTER with expires=0, answering Kamailio's challenge with an ephemeral
// credential from AUTH_SECRET), so calls no longer fork to a contact nobody answers. Kamailio's
// location table is read with a REGISTER without Contact (RFC 3261 §10.2.3), as the user.
const SECRET = 'unregister-on-close-secret-0123456789';
const ADMIN_TOKEN = 'unregister-on-close-admin-token-0123456789';
const DOMAIN = 'ringway.test';
let kamailio: RunningKamailio;
let gateway: RunningGateway;
let browser: Browser;
let phone: UdpSipPhone;
const usersFile = usersFileWith(['alice', 'bob', 'carol', 'dave']);

beforeAll(async () => {
  kamailio = await startKamailio({ secret: SECRET, sipDomain: DOMAIN });
  gateway = await startUpstreamGateway(kamailio.udp, {
    AUTH_SECRET: SECRET,
    USERS_FILE: usersFile,
    ADMIN_TOKEN,
  });
  browser = await launchChromium();
  phone = await UdpSipPhone.open(kamailio.udp, { domain: DOMAIN });
}, 30_000);

afterAll(async () => {
  phone?.close();
  await browser?.close();
  await gateway?.close();
  await kamailio?.stop();
});

/** The contacts Kamailio holds for `user` (their URIs). */
const bindingsOf = async (user: string) =>
  (await phone.bindings(user, issueEphemeralCredential(SECRET, user, 60))).map(
    (contact) => /<([^>]+)>/.exec(contact)?.[1] ?? contact,
  );

const signedIn = (user: string, on: RunningGateway = gateway) =>
  registeredWithPassword(browser, `http://127.0.0.1:${on.port}`, user, passwordOf(user));

/** What a user's closing the tab does: the page's unload runs (its `pagehide`), then it is gone. */
async function closeTab(page: Page): Promise<void> {
  await page.close();
  await page.context().close();
}

/** The gateway's series of metric `name` (its closes by code, its unregistrations by outcome). */
const countedBy = (name: string) => metricLines(gateway, name, ADMIN_TOKEN);

/** What the gateway counted of closes and unregistrations: said when a contact is not gone in time. */
const gatewayCounts = {
  'gateway counters': async () =>
    [
      ...(await countedBy('ringway_ws_closes_total')),
      ...(await countedBy('ringway_upstream_unregisters_total')),
    ].join('\n'),
};

describe('unregistering a closed page upstream', () => {
  it('a closed tab leaves Kamailio with no contact for it, and the user’s other tab stays registered', async () => {
    const first = await signedIn('alice');
    const [firstContact] = await eventually(
      () => bindingsOf('alice'),
      (contacts) => contacts.length === 1,
      (contacts) => `alice's contacts: ${contacts.join(', ')}`,
    );
    const second = await signedIn('alice');
    const both = await eventually(
      () => bindingsOf('alice'),
      (contacts) => contacts.length === 2,
      (contacts) => `alice's contacts: ${contacts.join(', ')}`,
    );
    const bob = await signedIn('bob');
    await eventually(
      () => bindingsOf('bob'),
      (contacts) => contacts.length === 1,
      (contacts) => `bob's contacts: ${contacts.join(', ')}`,
    );

    const closedAt = Date.now();
    await closeTab(first);
    const left = await withLogsOnFailure(gatewayCounts, () =>
      eventually(
        () => bindingsOf('alice'),
        (contacts) => contacts.length === 1,
        (contacts) => `alice's contacts after her first tab closed: ${contacts.join(', ')}`,
        { ms: 5000 },
      ),
    );
    const ms = Date.now() - closedAt;
    expect(left[0]).not.toBe(firstContact);
    expect(both).toContain(left[0]);
    // Bob's page and Alice's other tab are untouched.
    expect(await bindingsOf('bob')).toHaveLength(1);

    await closeTab(second);
    await withLogsOnFailure(gatewayCounts, () =>
      eventually(
        () => bindingsOf('alice'),
        (contacts) => contacts.length === 0,
        (contacts) => `alice's contacts after both tabs closed: ${contacts.join(', ')}`,
        { ms: 5000 },
      ),
    );
    expect(await bindingsOf('bob')).toHaveLength(1);
    expect(await countedBy('ringway_upstream_unregisters_total')).toEqual([
      'ringway_upstream_unregisters_total{outcome="removed"} 2',
    ]);
    // Ringway's page said it was leaving (4001), before the browser's own close could.
    expect(await countedBy('ringway_ws_closes_total')).toEqual(['ringway_ws_closes_total{code="4001"} 2']);
    console.log(`closed tab → its contact gone from Kamailio in ${ms} ms`);
    await closeTab(bob);
  }, 60_000);

  it('a connection lost rather than left (a network change) is not unregistered: the page comes back registered', async () => {
    const removed = async () =>
      (await countedBy('ringway_upstream_unregisters_total')).find((line) => line.includes('"removed"'));
    const dave = await signedIn('dave');
    const [contact] = await eventually(
      () => bindingsOf('dave'),
      (contacts) => contacts.length === 1,
      (contacts) => `dave's contacts: ${contacts.join(', ')}`,
    );
    const [, user, host] = /^sips?:([^@]+)@([^;>]+)/.exec(contact as string) ?? [];
    const flowOf = () => gateway.app.sip.flows.contact(user, host as string)?.flow.id;
    const before = { flow: flowOf(), removed: await removed() };
    expect(before.flow).toBeDefined();
    // The browser reports a new network: the phone closes its connection (1000, not 1001) and
    // registers again on a new one. Witness: its contact is on another flow now.
    await dave.evaluate(() => window.dispatchEvent(new Event('online')));
    await eventually(
      flowOf,
      (flow) => flow !== undefined && flow !== before.flow,
      () => 'dave’s contact did not move to a new connection',
    );
    expect(await removed()).toBe(before.removed);
    expect(await bindingsOf('dave')).toEqual([contact]);
    await closeTab(dave);
  }, 60_000);

  it('a gateway shutting down leaves its clients registered (they come back and register again)', async () => {
    const other = await startUpstreamGateway(kamailio.udp, { AUTH_SECRET: SECRET, USERS_FILE: usersFile });
    const carol = await signedIn('carol', other);
    await eventually(
      () => bindingsOf('carol'),
      (contacts) => contacts.length === 1,
      (contacts) => `carol's contacts: ${contacts.join(', ')}`,
    );
    await other.close();
    // Every flow gone from its table (the page answered the close frame): an unregistration would
    // have been sent by now, before the query below.
    await eventually(
      () => other.app.sip.flows.size,
      (size) => size === 0,
      (size) => `${size} flows still open on the closed gateway`,
    );
    expect(await bindingsOf('carol')).toHaveLength(1);
    await closeTab(carol);
  }, 60_000);
});
