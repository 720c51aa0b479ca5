import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  expectLamp,
  expectPageText,
  type FirefoxBrowser,
  type FirefoxPageOptions,
  launchFirefox,
  openFirefoxPage,
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
}, 20_000);

const inFirefox = (user: string, at = base(), options: FirefoxPageOptions = {}) =>
  openFirefoxSoftphone(firefox, at, user, options);
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

/** Audio bytes the page's current call has received (getStats, read at once). */
const bytesNow = (phone: SoftphonePage) =>
  phone.evaluate(async () => {
    const call = (
      window as unknown as { ringway: { current(): { peerConnection?: RTCPeerConnection } } }
    ).ringway.current();
    let bytes = 0;
    (await call.peerConnection?.getStats())?.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') bytes += r.bytesReceived ?? 0;
    });
    return bytes;
  });

/** Waits until the page's current call (getStats, not the last one-second sample) has received more than `minimum` audio bytes. */
const audioInCurrentCall = (phone: SoftphonePage, minimum = 1000) =>
  eventually(
    () => bytesNow(phone),
    (bytes) => bytes > minimum,
    (bytes) => `[${phone.user} ${phone.browser}] the current call received only ${bytes} audio bytes`,
  );

/** The far end of the page's current call, by the page's own API. */
const remoteOf = (phone: SoftphonePage) =>
  phone.evaluate(
    () => (window as unknown as { ringway: { current(): { remote: string } } }).ringway.current().remote,
  );

const screenOf = (phone: SoftphonePage) => phone.evaluate(() => document.body.dataset.screen);

/** The DTLS role (a=setup) of the page's current call's local description, its answer's when it answered. */
const dtlsSetupOf = (phone: SoftphonePage) =>
  phone.evaluate(() => {
    const call = (
      window as unknown as { ringway: { current(): { peerConnection: RTCPeerConnection } } }
    ).ringway.current();
    return /^a=setup:(\w+)/m.exec(call.peerConnection.localDescription?.sdp ?? '')?.[1];
  });

/** Waits until a level meter of the page has peaked above 0.01 (sound went through it). */
const meterPeak = (phone: SoftphonePage, id: 'mic-level' | 'far-level') =>
  eventually(
    async () => Number((await phone.attribute(id, 'data-peak')) ?? 0),
    (level) => level > 0.01,
    (level) => `[${phone.user} ${phone.browser}] ${id} peaked at ${level}`,
  );

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The serious and critical violations axe-core finds on the page as it is now. */
async function seriousViolations(phone: SoftphonePage): Promise<string[]> {
  await phone.addScript(AXE);
  const violations = await phone.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations as Array<{
      id: string;
      impact: string;
      help: string;
      nodes: Array<{ target: string[] }>;
    }>;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

async function expectDigits(phone: SoftphonePage, digits: string): Promise<void> {
  await eventually(
    () => dtmfReceived(phone),
    (got) => got === digits,
    (got) => `${phone.user} received DTMF "${got}", expected "${digits}"`,
  );
}

/** Sends `text` from the call screen's thread and waits until the other side took it. */
async function sendInCall(phone: SoftphonePage, text: string): Promise<void> {
  const delivered = '[data-testid="call-chat-log"] [data-testid="chat-sent"][data-delivery="delivered"]';
  const before = await phone.count(delivered);
  await phone.fill('call-chat-text', text);
  await phone.click('call-chat-send');
  await eventually(
    () => phone.count(delivered),
    (count) => count > before,
    () => `[${phone.user} ${phone.browser}] "${text}" was not delivered`,
  );
}

describe('the softphone page in Firefox ESR with the page in Chromium', () => {
  it('Firefox calls Chromium: answered, audio both ways, hold and resume from Firefox, DTMF from Firefox, hang-up', async () => {
    const [fox, chrome] = await Promise.all([inFirefox('fox1'), inChromium('chrome1')]);
    await dialAndAnswer(fox, chrome, 'chrome1');
    // Chromium answered Firefox's offer as the DTLS server: Firefox sends the first hello once it
    // has the answer (answerAsDtlsServer says why).
    expect(await dtlsSetupOf(chrome)).toBe('passive');
    await audioBeyond(fox);
    await audioBeyond(chrome);
    // Level meters in Firefox move for its microphone and for the far end (with a sound device:
    // launchFirefox gives it a PulseAudio null sink); its speaker list is not empty.
    await meterPeak(fox, 'mic-level');
    await meterPeak(fox, 'far-level');
    await meterPeak(chrome, 'far-level');
    // (The list is read again once the microphone is granted: wait for that reading.)
    const speakers = await eventually(
      () => fox.count('[data-testid="output-device"] option'),
      (count) => count > 0,
      () => 'Firefox lists no speaker once the microphone is granted',
    );
    expect(speakers).toBeGreaterThan(0);
    // Listed once the microphone is granted: nothing to ask selectAudioOutput() for.
    expect(await fox.attribute('choose-speaker-button', 'hidden')).not.toBeNull();
    // Firefox reports no microphone energy: its page says that a silent microphone is not
    // detected there; Chromium's, which measures it, says nothing.
    await eventually(
      () => fox.attribute('mic-check', 'hidden'),
      (hidden) => hidden === null,
      () => 'the Firefox page does not say its microphone is not measured',
    );
    expect(await chrome.attribute('mic-check', 'hidden')).not.toBeNull();

    await fox.click('hold-button');
    await expectPageText(fox, 'call-state', 'held');
    await expectPageText(chrome, 'call-state', 'held by the other side');
    expect(await audioDirection(fox)).toBe('sendonly');
    expect(await audioDirection(chrome)).toBe('recvonly');
    await fox.click('hold-button');
    await expectPageText(fox, 'call-state', 'active');
    await expectPageText(chrome, 'call-state', 'active');
    // Its answers to the re-INVITEs kept the role: a DTLS role never changes in a session.
    expect(await dtlsSetupOf(chrome)).toBe('passive');
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
    // Both histories keep the call, named by the user part, with its quality.
    await expectPageText(fox, 'history-list', /→ chrome1 — .*MOS \d/);
    await expectPageText(chrome, 'history-list', /← fox1 — the other side hung up.*MOS \d/);
    expect(await fox.count('[data-testid="history-quality-chart"]')).toBe(1);
    await Promise.all([fox.close(), chrome.close()]);
  }, 60_000);

  it('Chromium calls Firefox: Firefox answers, audio both ways, Firefox warns when no audio arrives, Chromium hangs up', async () => {
    const [fox, chrome] = await Promise.all([inFirefox('fox2'), inChromium('chrome2')]);
    await dialAndAnswer(chrome, fox, 'fox2');
    // Firefox's page answers as the DTLS server too.
    expect(await dtlsSetupOf(fox)).toBe('passive');
    await audioBeyond(fox);
    await audioBeyond(chrome);
    // One-way audio in Firefox: the far end stops sending and the Firefox page says so.
    await chrome.evaluate(() => {
      const call = (
        window as unknown as { ringway: { current(): { peerConnection: RTCPeerConnection } } }
      ).ringway.current();
      return call.peerConnection
        .getSenders()
        .find((s) => s.track?.kind === 'audio')
        ?.replaceTrack(null);
    });
    await expectPageText(fox, 'call-warning', /no output: no audio arrives/);
    await chrome.click('hangup-button');
    await expectPageText(fox, 'call-state', /^ended: the other side hung up/);
    await Promise.all([fox.close(), chrome.close()]);
  }, 60_000);

  it('chat during a call between Firefox and Chromium: messages both ways on the call screen while audio flows', async () => {
    const [fox, chrome] = await Promise.all([inFirefox('fox14'), inChromium('chrome14')]);
    await dialAndAnswer(fox, chrome, 'chrome14');
    const [foxBytes, chromeBytes] = await Promise.all([audioBeyond(fox), audioBeyond(chrome)]);
    await sendInCall(fox, 'hello from Firefox');
    await expectPageText(chrome, 'call-chat-log', 'fox14: hello from Firefox');
    await sendInCall(chrome, 'hello from Chromium');
    await expectPageText(fox, 'call-chat-log', /chrome14: hello from Chromium$/);
    await audioBeyond(fox, foxBytes);
    await audioBeyond(chrome, chromeBytes);
    await expectPageText(fox, 'call-state', 'active');
    await expectPageText(chrome, 'call-state', 'active');
    await fox.click('hangup-button');
    await expectPageText(chrome, 'call-state', /^ended: the other side hung up/);
    await Promise.all([fox.close(), chrome.close()]);
  }, 60_000);

  it('blind transfer from Firefox: its Chromium caller is handed to another Firefox page, audio both ways there', async () => {
    const [fox, chrome, fox2] = await Promise.all([
      inFirefox('fox5'),
      inChromium('chrome5'),
      inFirefox('fox6'),
    ]);
    await dialAndAnswer(chrome, fox, 'fox5');
    await fox.fill('transfer-input', 'fox6');
    await fox.click('transfer-button');
    await fox2.click('answer-button');
    await expectPageText(fox2, 'call-state', 'active');
    await expectPageText(chrome, 'call-state', 'active');
    await expectPageText(fox, 'call-state', /^ended/);
    expect(await remoteOf(fox2)).toContain('chrome5');
    await audioInCurrentCall(fox2);
    await audioInCurrentCall(chrome);
    await fox2.click('hangup-button');
    await expectPageText(chrome, 'call-state', /^ended/);
    await Promise.all([fox.close(), chrome.close(), fox2.close()]);
  }, 60_000);

  it('call waiting in Firefox: a second call answered with the first on hold, then joined by attended transfer', async () => {
    const [ann, ben, cat] = await Promise.all([
      inFirefox('fox7'),
      inChromium('chrome7'),
      inChromium('chrome8'),
    ]);
    await dialAndAnswer(ann, ben, 'chrome7');
    await cat.fill('dial-input', 'fox7');
    await cat.click('dial-button');
    await ann.click('answer-button');
    await expectPageText(cat, 'call-state', 'active');
    await expectPageText(ben, 'call-state', 'held by the other side');
    expect(await ann.text('lines')).toMatch(/chrome7.* — held.*chrome8.* — active/s);
    await audioInCurrentCall(ann);
    await ann.click('attended-transfer-button');
    // Ben calls Cat with Replaces; Cat's phone swaps the calls without ringing.
    await expectPageText(ann, 'call-state', /^ended/);
    await expectPageText(ben, 'call-state', 'active');
    await expectPageText(cat, 'call-state', 'active');
    expect(
      await cat.evaluate(
        () => (window as unknown as { ringway: { current(): { remote: string } } }).ringway.current().remote,
      ),
    ).toContain('chrome7');
    await audioInCurrentCall(cat);
    await audioInCurrentCall(ben);
    await Promise.all([ann.close(), ben.close(), cat.close()]);
  }, 60_000);

  it('presence in Firefox: a contact’s lamp goes online, ringing, on a call, online, offline; a Chromium page sees Firefox’s lamp', async () => {
    const [fox, callee, caller] = await Promise.all([
      inFirefox('fox9'),
      inChromium('chrome9'),
      inChromium('chrome10'),
    ]);
    await fox.fill('contact-name-input', 'Chrome nine');
    await fox.fill('contact-address-input', 'chrome9');
    await fox.click('contact-add-button');
    await expectLamp(fox, 'chrome9', 'online');
    await caller.fill('contact-name-input', 'Fox nine');
    await caller.fill('contact-address-input', 'fox9');
    await caller.click('contact-add-button');
    await expectLamp(caller, 'fox9', 'online');
    await caller.fill('dial-input', 'chrome9');
    await caller.click('dial-button');
    await expectLamp(fox, 'chrome9', 'ringing');
    await callee.click('answer-button');
    await expectLamp(fox, 'chrome9', 'on-call');
    await caller.click('hangup-button');
    await expectLamp(fox, 'chrome9', 'online');
    await callee.evaluate(() =>
      (globalThis as unknown as { ringway: { phone(): { stop(): Promise<void> } } }).ringway.phone().stop(),
    );
    await expectLamp(fox, 'chrome9', 'offline');
    await Promise.all([fox.close(), callee.close(), caller.close()]);
  }, 60_000);

  it('screens in Firefox: sign-in, idle, incoming and in call, a picture of each, and axe-core finds no serious or critical violation', async () => {
    const signIn = await openFirefoxPage(firefox, 'sign-in', `${base()}/`);
    await expectPageText(signIn, 'registration-state', /./);
    expect(await seriousViolations(signIn)).toEqual([]);
    const [fox, chrome] = await Promise.all([inFirefox('fox11'), inChromium('chrome11')]);
    expect(await screenOf(fox)).toBe('idle');
    expect(await seriousViolations(fox)).toEqual([]);
    writeFileSync(join(shots, 'firefox-idle.png'), await fox.screenshot());
    await chrome.fill('dial-input', 'fox11');
    await chrome.click('dial-button');
    await expectPageText(fox, 'call-state', /./);
    await eventually(
      () => screenOf(fox),
      (screen) => screen === 'incoming',
      (screen) => `the Firefox page shows the ${screen} screen, not incoming`,
    );
    expect(await fox.evaluate(() => document.activeElement?.id)).toBe('answer-button');
    expect(await seriousViolations(fox)).toEqual([]);
    writeFileSync(join(shots, 'firefox-incoming.png'), await fox.screenshot());
    await fox.click('answer-button');
    await expectPageText(chrome, 'call-state', 'active');
    expect(await screenOf(fox)).toBe('in-call');
    await expectPageText(fox, 'quality-badge', /^(good|fair|poor) · MOS \d/);
    expect(await seriousViolations(fox)).toEqual([]);
    await fox.click('hangup-button');
    await expectPageText(chrome, 'call-state', /^ended/);
    await Promise.all([signIn.close(), fox.close(), chrome.close()]);
  }, 60_000);

  it('a whole call with the keyboard only in Firefox: dial, mute, hold, hang up; and answer with a key', async () => {
    const [fox, chrome] = await Promise.all([inFirefox('fox12'), inChromium('chrome12')]);
    await fox.press('/');
    expect(await fox.evaluate(() => document.activeElement?.id)).toBe('dial-input');
    await fox.type('chrome12');
    await fox.press('Enter');
    await chrome.click('answer-button');
    await expectPageText(fox, 'call-state', 'active');
    await audioBeyond(fox);
    // Focus is in the dial field after dialling, where letters are typing: Tab leaves it.
    await fox.press('Tab');
    const muted = (pressed: string) =>
      eventually(
        () => fox.attribute('mute-button', 'aria-pressed'),
        (value) => value === pressed,
        (value) => `mute button aria-pressed is ${value}, expected ${pressed}`,
      );
    await fox.press('m');
    await muted('true');
    await fox.press('m');
    await muted('false');
    await fox.press('p');
    await expectPageText(fox, 'call-state', 'held');
    await expectPageText(chrome, 'call-state', 'held by the other side');
    await fox.press('p');
    await expectPageText(fox, 'call-state', 'active');
    // Escape in a text field (the call's message field) leaves it, the call stays; the next Escape hangs up.
    await fox.click('call-chat-text');
    expect(await fox.evaluate(() => document.activeElement?.id)).toBe('call-chat-text');
    await fox.press('Escape');
    expect(await fox.evaluate(() => document.activeElement?.id)).not.toBe('call-chat-text');
    await expectPageText(fox, 'call-state', 'active');
    await fox.press('Escape');
    await expectPageText(chrome, 'call-state', /ended/);
    // Called by Chromium, Firefox answers with `a`.
    await chrome.fill('dial-input', 'fox12');
    await chrome.click('dial-button');
    await eventually(
      () => screenOf(fox),
      (screen) => screen === 'incoming',
      (screen) => `the Firefox page shows the ${screen} screen, not incoming`,
    );
    await fox.press('a');
    await expectPageText(chrome, 'call-state', 'active');
    await audioInCurrentCall(fox);
    await fox.press('h');
    await expectPageText(chrome, 'call-state', /ended/);
    await Promise.all([fox.close(), chrome.close()]);
  }, 60_000);

  it('in the system’s dark mode: dark colours, a picture of a call, and axe-core (contrast included) finds no serious or critical violation', async () => {
    const dark = await launchFirefox({ 'layout.css.prefers-color-scheme.content-override': 0 });
    try {
      const [fox, chrome] = await Promise.all([
        openFirefoxSoftphone(dark, base(), 'fox13'),
        inChromium('chrome13'),
      ]);
      const luminance = await fox.evaluate(() => {
        const [r, g, b] = (
          getComputedStyle(document.documentElement).backgroundColor.match(/\d+/g) ?? []
        ).map(Number);
        return (0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0)) / 255;
      });
      expect(luminance).toBeLessThan(0.2);
      expect(await seriousViolations(fox)).toEqual([]);
      await dialAndAnswer(chrome, fox, 'fox13');
      await audioBeyond(fox);
      expect(await seriousViolations(fox)).toEqual([]);
      writeFileSync(join(shots, 'firefox-in-call-dark.png'), await fox.screenshot());
      await fox.click('hangup-button');
      await expectPageText(chrome, 'call-state', /^ended/);
      await Promise.all([fox.close(), chrome.close()]);
    } finally {
      await dark.close();
    }
  }, 60_000);
});

/** The speaker the page's call audio plays on (HTMLMediaElement.sinkId; '' for the default). */
const callSinkId = (phone: SoftphonePage) =>
  phone.evaluate(
    () => (document.getElementById('remote-audio') as HTMLAudioElement & { sinkId: string }).sinkId,
  );

/** The speaker the ring plays on, undefined while silent (ui/ring-tone.ts, by the page's own API). */
const ringSinkId = (phone: SoftphonePage) =>
  phone.evaluate(() =>
    (window as unknown as { ringway: { ringSinkId(): string | undefined } }).ringway.ringSinkId(),
  );

describe('speaker choice in Firefox', () => {
  it('before Firefox lists a speaker, "Choose speaker" asks it (selectAudioOutput), and the ring and the call play on the speaker chosen', async () => {
    // Firefox lists no audiooutput until the microphone or selectAudioOutput() is granted; the page
    // lists devices at once, before its microphone opens. This hides them for the page's life.
    const outputsNotListed = () => {
      const list = MediaDevices.prototype.enumerateDevices;
      MediaDevices.prototype.enumerateDevices = async function (this: MediaDevices) {
        return (await list.call(this)).filter((device) => device.kind !== 'audiooutput');
      };
    };
    const [fox, chrome] = await Promise.all([
      inFirefox('fox15', base(), { beforeLoad: outputsNotListed }),
      inChromium('chrome15'),
    ]);
    await eventually(
      () => fox.attribute('choose-speaker-button', 'hidden'),
      (hidden) => hidden === null,
      () => 'Firefox with no speaker listed is not offered "Choose speaker"',
    );
    expect(await fox.evaluate(() => document.getElementById('output-label')?.hidden)).toBe(true);
    // With media.navigator.permission.disabled (FIREFOX_PREFS) Firefox grants it without a prompt.
    await fox.click('choose-speaker-button');
    await expectPageText(fox, 'output-device', 'Null Output');
    const chosen = await fox.evaluate(
      () => (document.getElementById('output-device') as HTMLSelectElement).value,
    );
    expect(chosen).not.toBe('');
    expect(await fox.attribute('choose-speaker-button', 'hidden')).not.toBeNull();
    await eventually(
      () => callSinkId(fox),
      (sink) => sink === chosen,
      (sink) => `the call audio plays on "${sink}", not the speaker chosen`,
    );
    await chrome.fill('dial-input', 'fox15');
    await chrome.click('dial-button');
    await eventually(
      () => ringSinkId(fox),
      (sink) => sink === chosen,
      (sink) => `the ring plays on "${sink}", not the speaker chosen`,
    );
    await fox.click('answer-button');
    await expectPageText(chrome, 'call-state', 'active');
    await audioBeyond(fox);
    expect(await callSinkId(fox)).toBe(chosen);
    await fox.click('hangup-button');
    await expectPageText(chrome, 'call-state', /^ended/);
    await Promise.all([fox.close(), chrome.close()]);
  }, 60_000);

  it('a Firefox without a sound device: "Choose speaker" is offered and says why nothing was chosen', async () => {
    const silent = await launchFirefox({}, { sound: false });
    try {
      const fox = await openFirefoxSoftphone(silent, base(), 'fox16');
      expect(await fox.attribute('choose-speaker-button', 'hidden')).toBeNull();
      expect(await fox.count('[data-testid="output-device"] option')).toBe(0);
      await fox.click('choose-speaker-button');
      await expectPageText(fox, 'action-error', /^Could not switch the speaker/);
      await fox.close();
    } finally {
      await silent.close();
    }
  }, 60_000);

  it('lists its speakers once its microphone opens, when the registration came first', async () => {
    // getUserMedia slowed, as a real device starting or a permission prompt slows it: the page is
    // registered (and has read its devices for that) long before Firefox grants the microphone.
    const slowMicrophone = () => {
      const open = MediaDevices.prototype.getUserMedia;
      MediaDevices.prototype.getUserMedia = function (this: MediaDevices, constraints) {
        return new Promise((resolve) => setTimeout(resolve, 1500)).then(() => open.call(this, constraints));
      };
    };
    const fox = await inFirefox('fox18', base(), { beforeLoad: slowMicrophone });
    await eventually(
      () => fox.count('[data-testid="output-device"] option'),
      (count) => count > 0,
      () => 'Firefox lists no speaker once its microphone opened after the registration',
    );
    expect(await fox.attribute('choose-speaker-button', 'hidden')).not.toBeNull();
    await fox.close();
  }, 60_000);

  it('where the browser cannot choose where sound goes (no setSinkId, no selectAudioOutput: Safari today) there is no speaker picker', async () => {
    const likeSafari = () => {
      delete (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId;
      delete (MediaDevices.prototype as { selectAudioOutput?: unknown }).selectAudioOutput;
    };
    const fox = await inFirefox('fox17', base(), { beforeLoad: likeSafari });
    await eventually(
      () => fox.attribute('speaker-picker', 'hidden'),
      (hidden) => hidden !== null,
      () => 'a page that cannot choose the speaker still shows a speaker picker',
    );
    expect(await fox.attribute('input-device', 'hidden')).toBeNull();
    await fox.close();
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

  it.each([
    ['SIGTERM', 'fox3t', 'chrome3t'],
    ['SIGKILL', 'fox3', 'chrome3'],
  ] as const)(
    '%s and restart: the Firefox page goes reconnecting → active, audio flows again both ways, the history counts the reconnection',
    async (signal, foxUser, chromeUser) => {
      const at = `http://127.0.0.1:${port}`;
      const [fox, chrome] = await Promise.all([inFirefox(foxUser, at), inChromium(chromeUser, at)]);
      await dialAndAnswer(chrome, fox, foxUser);
      await audioBeyond(fox);
      await audioBeyond(chrome);

      await server?.kill(signal);
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
      console.info(`${signal}: gateway back → the Firefox page's call active again in ${foxActive} ms`);
      expect(await fox.text('call-waterfall')).toMatch(/reconnecting: \d+ ms.*reconnected: \d+ ms/s);

      await fox.click('hangup-button');
      await expectPageText(chrome, 'call-state', /^ended/);
      await expectPageText(fox, 'history-list', new RegExp(`← ${chromeUser} — .*1 reconnection\\(s\\)`));
      await Promise.all([fox.close(), chrome.close()]);
    },
    60_000,
  );
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
