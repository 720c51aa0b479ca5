import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { gatewayCommand } from '../bench/lib/gateway-process.mjs';
import { type StartedServer, startServer } from '../bench/lib/processes.mjs';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { freeTcpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import {
  audioBeyond,
  dialAndAnswer,
  expectPageText,
  type FirefoxBrowser,
  launchFirefox,
  openFirefoxSoftphone,
  playwrightSoftphone,
  type SoftphonePage,
  signInFirefoxWithPassword,
} from './support/firefox.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { openSoftphone, signInWithPassword } from './support/softphone-app.js';

// Issue 26: Ringway's page in Firefox ESR (puppeteer-core over WebDriver BiDi) against the page
// in Chromium (playwright), on the embedded gateway in anonymous loopback mode: each browser on
// each side of a call, audio both ways, hold/resume and DTMF from the Firefox side.
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const shots = join(root, '.ci', 'results', 'screenshots');
let chromium: Browser;
let firefox: FirefoxBrowser;
let gateway: RunningGateway;
const base = () => `http://127.0.0.1:${gateway.port}`;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  gateway = await startGateway({ SIP_DOMAIN: '127.0.0.1' });
  [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled([chromium?.close(), firefox?.close()]);
  await gateway?.close();
});

const inFirefox = (user: string, at = base()) => openFirefoxSoftphone(firefox, at, user);
const inChromium = async (user: string, at = base()) =>
  playwrightSoftphone(await openSoftphone(chromium, at, user), user);

/** DTMF digits the page's current call has received as SIP INFO, read by the page's own API. */
const dtmfReceived = (phone: SoftphonePage) =>
  phone.evaluate(() =>
    (window as unknown as { ringway: { current(): { dtmfReceived: string[] } } }).ringway
      .current()
      .dtmfReceived.join(''),
  );

/** What the audio sender's RTCDTMFSender still has to play (RFC 4733 digits not yet sent). */
const toneBuffer = (phone: SoftphonePage) =>
  phone.evaluate(() => {
    const call = (
      window as unknown as { ringway: { current(): { peerConnection: RTCPeerConnection } } }
    ).ringway.current();
    return call.peerConnection.getSenders().find((s) => s.track?.kind === 'audio')?.dtmf?.toneBuffer;
  });

/** The direction the page's current call negotiated for its audio. */
const audioDirection = (phone: SoftphonePage) =>
  phone.evaluate(() => {
    const call = (
      window as unknown as { ringway: { current(): { peerConnection: RTCPeerConnection } } }
    ).ringway.current();
    return call.peerConnection.getTransceivers().find((t) => t.receiver.track.kind === 'audio')
      ?.currentDirection;
  });

async function expectDigits(phone: SoftphonePage, digits: string): Promise<void> {
  await eventually(
    () => dtmfReceived(phone),
    (got) => got === digits,
    (got) => `${phone.user} received DTMF "${got}", expected "${digits}"`,
  );
}

describe('the softphone page in Firefox ESR with the page in Chromium', () => {
  it('Firefox calls Chromium: answered, audio both ways, hold and resume from Firefox, DTMF from Firefox, hang-up', async () => {
    const [fox, chrome] = await Promise.all([inFirefox('fox1'), inChromium('chrome1')]);
    await dialAndAnswer(fox, chrome, 'chrome1');
    await audioBeyond(fox);
    await audioBeyond(chrome);

    await fox.click('hold-button');
    await expectPageText(fox, 'call-state', 'held');
    await expectPageText(chrome, 'call-state', 'held by the other side');
    expect(await audioDirection(fox)).toBe('sendonly');
    expect(await audioDirection(chrome)).toBe('recvonly');
    await fox.click('hold-button');
    await expectPageText(fox, 'call-state', 'active');
    await expectPageText(chrome, 'call-state', 'active');
    const [foxBytes, chromeBytes] = await Promise.all([audioBeyond(fox, -1000), audioBeyond(chrome, -1000)]);
    await audioBeyond(fox, foxBytes);
    await audioBeyond(chrome, chromeBytes);

    // DTMF as SIP INFO arrives at the other page; RFC 4733 digits go out through Firefox's RTCDTMFSender.
    await fox.click('dtmf-info');
    await fox.click('dtmf-5');
    await fox.click('dtmf-hash');
    await expectDigits(chrome, '5#');
    await fox.click('dtmf-info');
    await fox.click('dtmf-1');
    expect(await toneBuffer(fox)).toMatch(/^1?$/);
    await eventually(
      () => toneBuffer(fox),
      (left) => left === '',
      (left) => `Firefox's RTCDTMFSender still holds "${left}"`,
    );
    expect(await dtmfReceived(chrome)).toBe('5#');

    const screenshot = await fox.screenshot();
    writeFileSync(join(shots, 'firefox-in-call.png'), screenshot);
    expect(screenshot.length).toBeGreaterThan(10_000);

    await fox.click('hangup-button');
    await expectPageText(fox, 'call-state', /^ended/);
    await expectPageText(chrome, 'call-state', /^ended: the other side hung up/);
    await Promise.all([fox.close(), chrome.close()]);
  }, 60_000);

  it('Chromium calls Firefox: Firefox answers, audio both ways, Chromium hangs up', async () => {
    const [fox, chrome] = await Promise.all([inFirefox('fox2'), inChromium('chrome2')]);
    await dialAndAnswer(chrome, fox, 'fox2');
    await audioBeyond(fox);
    await audioBeyond(chrome);
    await chrome.click('hangup-button');
    await expectPageText(fox, 'call-state', /^ended: the other side hung up/);
    await Promise.all([fox.close(), chrome.close()]);
  }, 60_000);
});

describe('Firefox through a gateway killed and started again', () => {
  let port: number;
  let server: StartedServer | undefined;
  const startProcess = async () => {
    server = await startServer(process.execPath, gatewayCommand, {
      port,
      env: { PORT: String(port), LOG_LEVEL: 'warn', SIP_DOMAIN: '127.0.0.1' },
    });
  };

  beforeAll(async () => {
    port = await freeTcpPort();
    await startProcess();
  }, 20_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('SIGKILL and restart: the Firefox page goes reconnecting → active, audio flows again both ways', async () => {
    const at = `http://127.0.0.1:${port}`;
    const [fox, chrome] = await Promise.all([inFirefox('fox3', at), inChromium('chrome3', at)]);
    await dialAndAnswer(chrome, fox, 'fox3');
    await audioBeyond(fox);
    await audioBeyond(chrome);

    await server?.kill('SIGKILL');
    await expectPageText(fox, 'call-state', 'reconnecting');
    await expectPageText(chrome, 'call-state', 'reconnecting');
    const before = await Promise.all([audioBeyond(fox, -1000), audioBeyond(chrome, -1000)]);
    await startProcess();
    const back = Date.now();
    await expectPageText(fox, 'call-state', 'active', 20_000);
    const foxActive = Date.now() - back;
    await expectPageText(chrome, 'call-state', 'active', 20_000);
    await audioBeyond(fox, before[0]);
    await audioBeyond(chrome, before[1]);
    console.info(`SIGKILL: gateway back → the Firefox page's call active again in ${foxActive} ms`);
    expect(await fox.text('call-waterfall')).toMatch(/reconnecting: \d+ ms.*reconnected: \d+ ms/s);

    await fox.click('hangup-button');
    await expectPageText(chrome, 'call-state', /^ended/);
    await Promise.all([fox.close(), chrome.close()]);
  }, 60_000);
});

describe('password sign-in in Firefox', () => {
  let signIn: RunningGateway | undefined;

  beforeAll(async () => {
    signIn = await startGateway({
      SIP_DOMAIN: '127.0.0.1',
      AUTH_SECRET: randomBytes(24).toString('base64'),
      USERS_FILE: usersFileWith(['fox4', 'chrome4']),
    });
  }, 20_000);

  afterAll(async () => {
    await signIn?.close();
  });

  it('signs in on the form with a password, registers, and is called by a Chromium page signed in the same way', async () => {
    const at = `http://127.0.0.1:${signIn?.port}`;
    const [fox, chrome] = await Promise.all([
      signInFirefoxWithPassword(firefox, at, 'fox4', passwordOf('fox4')),
      signInWithPassword(chromium, at, 'chrome4', passwordOf('chrome4')).then((page) =>
        playwrightSoftphone(page, 'chrome4'),
      ),
    ]);
    await expectPageText(fox, 'registration-state', 'registered');
    await expectPageText(chrome, 'registration-state', 'registered');
    await dialAndAnswer(chrome, fox, 'fox4');
    await audioBeyond(fox);
    await audioBeyond(chrome);
    await fox.click('hangup-button');
    await expectPageText(chrome, 'call-state', /^ended: the other side hung up/);
    await Promise.all([fox.close(), chrome.close()]);
  }, 60_000);
});
