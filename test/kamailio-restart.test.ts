import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Messager, UserAgent } from 'sip.js';
import { issueEphemeralCredential } from '../packages/gateway/src/sip/auth/credentials.js';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { type Phone, sipjsPhone } from '../packages/gateway/test/support/sipjs.js';
import { type RunningBaresip, startBaresip } from './support/baresip.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { expectText, registeredWithPassword, waitForAudio } from './support/softphone-app.js';
import { audioFlows, startSoftphonePages } from './support/softphone-pages.js';

// Kamailio keeps registrations in memory: killed with SIGKILL and started again, it knows nobody
// until each client registers again. Every kind of client must do so by itself: those behind the
// gateway (whose WebSocket stays up) and baresip at their next refresh, which Kamailio bounds
// (REGISTER_MAX_EXPIRES); Ringway's softphone connected straight to Kamailio, whose WebSocket
// died with it, by reconnecting.
const SECRET = 'kamailio-restart-secret-0123456789';
const MAX_EXPIRES = 15;
const credential = (user: string) => {
  const issued = issueEphemeralCredential(SECRET, user, 600);
  return { authorizationUsername: issued.username, authorizationPassword: issued.password };
};
const asPageCredential = (user: string) => {
  const c = credential(user);
  return { username: c.authorizationUsername, password: c.authorizationPassword };
};
let kamailio: RunningKamailio;
let gateway: RunningGateway;
let baresip: RunningBaresip;
let browser: Awaited<ReturnType<typeof startSoftphonePages>>;
let prober: Phone;

beforeAll(async () => {
  kamailio = await startKamailio({
    secret: SECRET,
    sipDomain: 'ringway.test',
    registerMaxExpires: MAX_EXPIRES,
  });
  // The gateway as an operator runs it in front of Kamailio: password sign-in on Ringway's page,
  // ephemeral credentials from the secret Kamailio checks.
  gateway = await startUpstreamGateway(kamailio.udp, {
    AUTH_SECRET: SECRET,
    USERS_FILE: usersFileWith(['page-g']),
  });
  browser = await startSoftphonePages();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await baresip?.stop();
  await prober?.stop();
  await gateway?.close();
  await kamailio?.stop();
}, 30_000);

/** The final status of a MESSAGE sent to `user` through Kamailio: 200 once it knows where `user` is. */
function reach(user: string): Promise<number> {
  const target = UserAgent.makeURI(`sip:${user}@ringway.test`);
  if (!target) throw new Error(`bad user ${user}`);
  return new Promise((resolve, reject) => {
    new Messager(prober.ua, target, 'are you there?')
      .message({
        requestDelegate: {
          onAccept: (response) => resolve(response.message.statusCode ?? 0),
          onReject: (response) => resolve(response.message.statusCode ?? 0),
        },
      })
      .catch(reject);
  });
}

describe('Kamailio killed with SIGKILL and started again', () => {
  it('every client registers again by itself: Ringway’s page and phone and browsers behind the gateway, Ringway’s phone on its own WebSocket, baresip over UDP; then Ringway’s page and Ringway’s phone call each other through it, audio both ways', async () => {
    const users = ['page-g', 'ringway-g', 'sipjs-r', 'jssip-r', 'ringway-r', 'carol-r'];
    // Behind the gateway: Ringway's own page (signed in with a password) and phone, and SIP.js
    // and JsSIP pages as interop peers.
    const ringwayProductPage = await registeredWithPassword(
      browser.browser,
      `http://127.0.0.1:${gateway.port}`,
      'page-g',
      passwordOf('page-g'),
    );
    const ringwayBehindGateway = await browser.phone(
      'ringway',
      'ringway-g',
      gateway.wsUrl,
      asPageCredential('ringway-g'),
    );
    const sipjsPage = await browser.phone('sipjs', 'sipjs-r', gateway.wsUrl, asPageCredential('sipjs-r'));
    const jssipPage = await browser.phone('jssip', 'jssip-r', gateway.wsUrl, asPageCredential('jssip-r'));
    const ringwayPage = await browser.phone(
      'ringway',
      'ringway-r',
      kamailio.wsUrl,
      asPageCredential('ringway-r'),
    );
    const carol = credential('carol-r');
    baresip = await startBaresip({
      user: 'carol-r',
      domain: 'ringway.test',
      registration: {
        outbound: kamailio.udp,
        credential: { username: carol.authorizationUsername, password: carol.authorizationPassword },
      },
    });
    await baresip.registered();
    prober = await sipjsPhone(kamailio.wsUrl, 'prober-r', { ...credential('prober-r'), register: false });
    // A witness registered straight to Kamailio that will not come back by itself: proof that the
    // registrations went with the process, however fast the others return (Ringway's softphone
    // is back within a second, before a busy machine's prober may ask).
    // (A SIP.js user agent does not reconnect by itself: its reconnectionAttempts default to 0.)
    const witness = await sipjsPhone(kamailio.wsUrl, 'witness-r', credential('witness-r'));
    expect(await Promise.all([...users, 'witness-r'].map(reach))).toEqual(users.map(() => 200).concat(200));

    await kamailio.crashAndRestart();
    const restarted = Date.now();
    await witness.stop().catch(() => undefined);
    // The prober's WebSocket died with Kamailio: a new prober on a new connection (reconnecting
    // the old user agent raced its own close event now and then, and its requests went nowhere).
    await prober.stop().catch(() => undefined);
    prober = await sipjsPhone(kamailio.wsUrl, 'prober-r', { ...credential('prober-r'), register: false });
    expect(await reach('witness-r')).toBe(404);

    const back = new Map<string, number>();
    while (back.size < users.length && Date.now() - restarted < 3 * MAX_EXPIRES * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      for (const user of users.filter((u) => !back.has(u))) {
        if ((await reach(user)) === 200) back.set(user, Date.now() - restarted);
      }
    }
    console.info('registered again after the restart (ms):', Object.fromEntries(back));
    expect([...back.keys()].sort()).toEqual([...users].sort());
    // Each refreshes before its binding (≤ MAX_EXPIRES) would have run out; the margin is for a
    // busy machine.
    for (const ms of back.values()) expect(ms).toBeLessThan(MAX_EXPIRES * 1000 + 5000);

    // The product's own path through the restarted Kamailio, not only the prober's: Ringway's page
    // behind the gateway (its WebSocket stayed up) calls Ringway's Phone that reconnected straight
    // to Kamailio, from its Dial button; audio both ways.
    await ringwayProductPage.getByTestId('dial-input').fill('ringway-r');
    await ringwayProductPage.getByTestId('dial-button').click();
    await ringwayPage.evaluate(() => window.phone.answer());
    await expectText(ringwayProductPage, 'call-state', 'active', 15_000);
    expect(await waitForAudio(ringwayProductPage)).toBeGreaterThan(1000);
    expect(await audioFlows(ringwayPage)).toBeGreaterThan(1000);
    await ringwayProductPage.getByTestId('hangup-button').click();
    await expectText(ringwayProductPage, 'call-state', /^ended/);
    // And the other way: Ringway's Phone on Kamailio calls Ringway's page, which answers from its
    // answer button: Kamailio's restored binding of the gateway carries the call in.
    await ringwayPage.evaluate(() => window.phone.dial('sip:page-g@ringway.test'));
    await ringwayProductPage.getByTestId('answer-button').click({ timeout: 15_000 });
    await expectText(ringwayProductPage, 'call-state', 'active', 15_000);
    await ringwayPage.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
    expect(await waitForAudio(ringwayProductPage)).toBeGreaterThan(1000);
    expect(await audioFlows(ringwayPage)).toBeGreaterThan(1000);
    await ringwayProductPage.getByTestId('hangup-button').click();
    await expectText(ringwayProductPage, 'call-state', /^ended/);
    // The hang-up reached the Phone on the far side of Kamailio too.
    await ringwayPage.waitForFunction(() => !window.phone.established(), undefined, { timeout: 10_000 });
    await ringwayProductPage.context().close();
    await ringwayBehindGateway.context().close();
    await sipjsPage.context().close();
    await jssipPage.context().close();
    await ringwayPage.context().close();
  }, 120_000);
});
