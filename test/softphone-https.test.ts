import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, chromium, type Page } from 'playwright-core';
import { fingerprints } from '../packages/gateway/src/tls/server-certificate.js';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import {
  type Pem,
  serverCertificate,
  testAuthority,
} from '../packages/gateway/test/support/test-certificates.js';
import { addUser } from '../packages/gateway/test/support/users.js';
import { CHROMIUM_ARGS } from './support/chromium-args.mjs';
import { eventually } from './support/eventually.js';
import { type SecondMachine, secondMachine } from './support/second-machine.js';
import { callAndAnswer, expectText, signInWithPassword, waitForAudio } from './support/softphone-app.js';

// Issue 14 §5: browsers on another machine — a namespace whose only interfaces are `lo` and a
// link to this test network — open the page by address over HTTPS, register over wss:// and
// call each other; the certificate is renewed during the call; over plain HTTP the page says
// HTTPS is needed.
const GATEWAY_IP = '10.77.0.1';
const SECRET = 'https-e2e-secret-0123456789';
const folder = mkdtempSync(join(tmpdir(), 'ringway-https-'));
const usersFile = join(folder, 'users.json');
const certFile = join(folder, 'cert.pem');
const keyFile = join(folder, 'key.pem');
let machine: SecondMachine;
let browser: Browser;
let secure: RunningGateway;
let plain: RunningGateway;
let first: Pem;
let renewal: Pem;

function install(pem: Pem): void {
  writeFileSync(keyFile, pem.key);
  writeFileSync(certFile, pem.cert);
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to the gateway is shown. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: GATEWAY_IP, port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

beforeAll(async () => {
  machine = await secondMachine({
    tag: 'rwtls',
    folder,
    address: '10.77.0.2/24',
    link: { hostAddress: `${GATEWAY_IP}/24` },
  });
  const authority = await testAuthority();
  [first, renewal] = [
    await serverCertificate([GATEWAY_IP], authority),
    await serverCertificate([GATEWAY_IP], authority),
  ];
  install(first);
  for (const user of ['alice', 'bob']) addUser(usersFile, user, `${user}-over-https`);
  const common = { HOST: GATEWAY_IP, AUTH_SECRET: SECRET, USERS_FILE: usersFile, SIP_DOMAIN: 'ringway.test' };
  secure = await startGateway({ ...common, TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
  plain = await startGateway({ ...common, TLS: 'off' });
  // The browsers trust both certificates by their keys, as a person who accepted them would.
  const trusted = [first, renewal].map((pem) => fingerprints(pem.cert).spkiSha256).join(',');
  browser = await chromium.launch({
    executablePath: machine.chromium,
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${trusted}`],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([secure?.close(), plain?.close()]);
  machine?.remove();
});

async function signedIn(user: string): Promise<Page> {
  const page = await signInWithPassword(
    browser,
    `https://${GATEWAY_IP}:${secure.port}`,
    user,
    `${user}-over-https`,
  );
  await expectText(page, 'registration-state', 'registered');
  return page;
}

const bytesReceived = async (page: Page) =>
  Number((await page.getByTestId('call-stats').getAttribute('data-bytes-received')) ?? 0);

describe('the softphone page from another machine', () => {
  it('over HTTPS: alice and bob sign in, register over wss:// and call, audio both ways; a renewed certificate leaves the call going', async () => {
    // WebSockets opened on the gateway: a page that lost its connection would open another.
    let upgrades = 0;
    secure.app.server.on('upgrade', () => upgrades++);
    const alice = await signedIn('alice');
    const bob = await signedIn('bob');
    expect(await alice.evaluate(() => [location.protocol, window.isSecureContext])).toEqual(['https:', true]);
    await callAndAnswer(alice, bob, 'bob');
    expect(await waitForAudio(alice)).toBeGreaterThan(1000);
    expect(await waitForAudio(bob)).toBeGreaterThan(1000);

    // Renewal in the middle of the call: new connections get the new certificate…
    install(renewal);
    const renewed = new X509Certificate(renewal.cert).fingerprint256;
    await eventually(
      () => presented(secure.port),
      (shown) => shown === renewed,
      (shown) => `new connections are still shown ${shown}`,
    );
    // …and the call, on its WebSocket of before, goes on with audio flowing both ways.
    const [aliceBefore, bobBefore] = [await bytesReceived(alice), await bytesReceived(bob)];
    await waitForAudio(alice, aliceBefore + 2000);
    await waitForAudio(bob, bobBefore + 2000);
    await expectText(alice, 'call-state', 'active');
    await expectText(alice, 'registration-state', 'registered');
    await expectText(bob, 'registration-state', 'registered');
    expect(upgrades).toBe(2);
    // A page opened now registers over a connection with the renewed certificate.
    const later = await signInWithPassword(
      browser,
      `https://${GATEWAY_IP}:${secure.port}`,
      'bob',
      'bob-over-https',
    );
    await expectText(later, 'registration-state', 'registered');
    await alice.getByTestId('hangup-button').click();
    await expectText(bob, 'call-state', /ended/);
  }, 90_000);

  it('over plain HTTP: the page says HTTPS is needed, with the link, instead of failing at the first call', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://${GATEWAY_IP}:${plain.port}/`);
    expect(await page.getByTestId('insecure-context').isVisible()).toBe(true);
    await expectText(page, 'insecure-context', /pages opened over HTTPS/);
    expect(await page.getByTestId('secure-url').getAttribute('href')).toBe(
      `https://${GATEWAY_IP}:${plain.port}/`,
    );
    expect(await page.getByTestId('register-button').isVisible()).toBe(false);
    await page.context().close();
  }, 30_000);
});
