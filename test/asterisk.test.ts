import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import {
  type PbxBehindKamailio,
  type RunningAsterisk,
  startAsterisk,
  startAsteriskBehindKamailio,
} from './support/asterisk.js';
import {
  hearsSilence,
  hearsSound,
  noChannelsLeft,
  registeredWithAsterisk,
  signedInOnAsterisk,
  signOutOfAsterisk,
  voicemailRecordedBytes,
} from './support/asterisk-checks.js';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import type { RunningKamailio } from './support/kamailio.js';
import { withLogsOnFailure } from './support/logs-on-failure.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { expectText, registeredWithPassword, waitForAudio } from './support/softphone-app.js';
import { audible, audioFlows, startSoftphonePages } from './support/softphone-pages.js';
import { UdpSipPhone } from './support/udp-sip-phone.js';
import { wavPeak } from './support/wav.js';

// Issue 24: the real Asterisk 22 (shared/vendor, unpacked to /opt/asterisk by .ci/run) running
// the project's own asterisk-config.

/** Module name → status ("Running", "Not Running"…) from `module show`. */
function moduleStatus(output: string): Map<string, string> {
  const modules = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^(\S+\.so)\s+.*?\s(-?\d+)\s+(Running|Not Running|Declined|Unknown)\b/.exec(line);
    if (match) modules.set(match[1] as string, match[3] as string);
  }
  return modules;
}

describe('Asterisk with the project’s asterisk-config', () => {
  let asterisk: RunningAsterisk;

  beforeAll(async () => {
    asterisk = await startAsterisk();
  }, 30_000);

  afterAll(async () => {
    await asterisk?.stop();
  });

  it('loads PJSIP with its WebSocket transport, RTP with ICE and DTLS-SRTP, the dialplan’s apps and the codecs it can decode', async () => {
    const modules = moduleStatus(await asterisk.cli('module show'));
    const required = [
      // PJSIP and what it requires (an explicit load list without these left PJSIP unloaded).
      'res_pjproject.so',
      'res_sorcery_astdb.so',
      'res_sorcery_config.so',
      'res_sorcery_memory.so',
      'res_pjsip.so',
      'res_pjsip_session.so',
      'res_pjsip_pubsub.so',
      'chan_pjsip.so',
      'res_pjsip_authenticator_digest.so',
      'res_pjsip_endpoint_identifier_ip.so',
      'res_pjsip_endpoint_identifier_user.so',
      'res_pjsip_registrar.so',
      'res_pjsip_sdp_rtp.so',
      'res_pjsip_dtmf_info.so',
      'res_pjsip_mwi.so',
      'res_pjsip_transport_websocket.so',
      'res_http_websocket.so',
      'res_rtp_asterisk.so',
      'res_srtp.so',
      // The dialplan: 600 echo, 700 ConfBridge (mixing in bridge_softmix), 800 IVR and voicemail.
      'pbx_config.so',
      'app_echo.so',
      'app_playback.so',
      'app_confbridge.so',
      'bridge_softmix.so',
      'app_voicemail.so',
      'app_read.so',
      'func_callerid.so',
      // Codecs it can decode (no codec_opus: opus is pass-through) and its prompts' formats.
      'codec_g722.so',
      'codec_ulaw.so',
      'codec_alaw.so',
      'codec_gsm.so',
      'res_format_attr_opus.so',
      'format_wav.so',
      'format_gsm.so',
    ];
    const notRunning = required.filter((name) => modules.get(name) !== 'Running');
    expect(notRunning).toEqual([]);
    // The ones modules.conf leaves out stay out.
    expect(modules.has('res_hep.so')).toBe(false);
  });

  it('has its UDP and WebSocket transports, the /ws URI, the Kamailio trunk and the WebRTC endpoint', async () => {
    const transports = await asterisk.cli('pjsip show transports');
    expect(transports).toMatch(new RegExp(`transport-udp\\s+udp\\s.*${asterisk.udp.replace(/\./g, '\\.')}`));
    expect(transports).toMatch(/transport-ws\s+ws\s/);
    const http = await asterisk.cli('http show status');
    expect(http).toMatch(/Server Enabled and Bound to 127\.0\.0\.1:\d+/);
    expect(http).toContain('/ws => Asterisk HTTP WebSocket');

    const trunk = await asterisk.cli('pjsip show endpoint kamailio');
    expect(trunk).toMatch(/context\s*:\s*from-kamailio/);
    // A codec Asterisk can decode before opus, or prompts on browser calls fail.
    expect(trunk).toMatch(/allow\s*:\s*\(g722\|ulaw\|alaw\|opus\)/);
    expect(trunk).toMatch(/Match:\s*172\.28\.0\.10\/32/);
    // …and only that one in the answer, whatever the offer's order.
    expect(trunk).toMatch(/incoming_call_offer_pref\s*:\s*local_first/);

    const webrtc = await asterisk.cli('pjsip show endpoint 6001');
    expect(webrtc).toMatch(/webrtc\s*:\s*(true|yes)/);
    expect(webrtc).toMatch(/allow\s*:\s*\(g722\|ulaw\|alaw\|opus\)/);
    expect(webrtc).toMatch(/transport\s*:\s*transport-ws/);
    expect(webrtc).toMatch(/InAuth:\s*6001\/6001/);
    expect(await asterisk.cli('pjsip show endpoint 6002')).toMatch(/webrtc\s*:\s*(true|yes)/);
    // Pages behind the gateway register with a Path: calls to them follow it.
    for (const aor of ['6001', '6002'])
      expect(await asterisk.cli(`pjsip show aor ${aor}`)).toMatch(/support_path\s*:\s*(true|yes)/);
  });

  it('has the echo test on 600, its endpoints on 60XX, the conference on 700, the IVR on 800, ConfBridge profiles and the voicemail box', async () => {
    expect(await asterisk.cli('dialplan show 600@from-kamailio')).toMatch(/Echo\(\)/);
    expect(await asterisk.cli('dialplan show 6002@from-kamailio')).toMatch(/Dial\(PJSIP\/\$\{EXTEN\},20\)/);
    expect(await asterisk.cli('dialplan show 700@from-kamailio')).toMatch(/ConfBridge\(700\)/);
    expect(await asterisk.cli('dialplan show 800@from-kamailio')).toMatch(/VoiceMail\(6001@default,u\)/);
    expect(await asterisk.cli('confbridge show profile bridges')).toContain('default_bridge');
    expect(await asterisk.cli('confbridge show profile users')).toContain('default_user');
    expect(await asterisk.cli('voicemail show users')).toMatch(/default\s+6001\s+Ringway user/);
  });
});

// Issue 24 §2, behind the stack: Ringway's page → gateway (upstream) → Kamailio (WITH_PBX
// dispatcher, WITH_RTPENGINE) → rtpengine (WebRTC ↔ RTP/AVP) → Asterisk's trunk → 600:
// Playback(demo-echotest) with Debian's prompts, then Echo().
describe('Ringway’s page dials 600 through gateway, Kamailio and rtpengine: Asterisk’s prompt and echo', () => {
  const SECRET = 'asterisk-echo-secret-0123456789';
  let asterisk: RunningAsterisk;
  let pbx: PbxBehindKamailio;
  let kamailio: RunningKamailio;
  let gateway: RunningGateway;
  let browser: Browser;

  beforeAll(async () => {
    pbx = await startAsteriskBehindKamailio(SECRET);
    ({ asterisk, kamailio } = pbx);
    gateway = await startUpstreamGateway(kamailio.udp, {
      AUTH_SECRET: SECRET,
      USERS_FILE: usersFileWith(['alice', 'carol', 'dave', 'erin', 'frank', 'grace']),
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await pbx?.stop();
  });

  it('a page behind Kamailio calls 6001, Ringway’s Phone registered straight on Asterisk: Dial bridges them, each hears the other', async () => {
    // 6001 registers with Asterisk itself over WebSocket (DTLS-SRTP with Asterisk); the page's
    // call crosses gateway, Kamailio and rtpengine to Asterisk's trunk, and Dial() joins the two.
    const desk = await startSoftphonePages();
    try {
      const phone = await desk.phone('ringway', '6001', asterisk.wsUrl, {
        username: '6001',
        password: 'change-me-6001',
      });
      await registeredWithAsterisk(asterisk, ['6001']);
      const page = await signedIn('grace');
      await page.getByTestId('dial-input').fill('6001');
      await page.getByTestId('dial-button').click();
      await phone.evaluate(() => window.phone.answer());
      await expectText(page, 'call-state', 'active', 15_000);
      expect(await asterisk.cli('core show channels concise')).toMatch(
        /^PJSIP\/kamailio-[^!]*!from-kamailio!6001!\d+!Up!Dial!/m,
      );
      expect(await waitForAudio(page)).toBeGreaterThan(1000);
      expect(await audioFlows(phone)).toBeGreaterThan(1000);
      // Each hears the other's fake microphone (Dial plays nothing of its own).
      expect(await audible(phone)).toBeGreaterThan(0.01);
      expect(await hearsSound(page)).toBeGreaterThan(1e-4);
      await page.getByTestId('hangup-button').click();
      await noChannelsLeft(asterisk);
      await page.context().close();
    } finally {
      await desk.close();
    }
  }, 90_000);

  /** A page behind the gateway signed in with the user's password, registered at Kamailio. */
  const signedIn = (user: string) =>
    registeredWithPassword(browser, `http://127.0.0.1:${gateway.port}`, user, passwordOf(user));

  /** The dialplan application Asterisk's one channel runs now (`core show channels concise`). */
  const application = async () => {
    const line = (await asterisk.cli('core show channels concise')).split('\n').find((l) => l.includes('!'));
    return line?.split('!')[5] ?? 'none';
  };

  it('the page hears the prompt (a codec Asterisk can encode), then its own microphone echoed, and nothing while muted', async () => {
    const page = await signedIn('alice');
    await page.getByTestId('dial-input').fill('600');
    await page.getByTestId('dial-button').click();
    await expectText(page, 'call-state', 'active', 15_000);
    // Asterisk answered on its trunk from Kamailio.
    expect(await asterisk.cli('core show channels verbose')).toMatch(/PJSIP\/kamailio-/);
    expect(await waitForAudio(page)).toBeGreaterThan(1000);

    const mute = () => page.getByTestId('mute-button').click();
    // Muted from the start: what the page hears during Playback(demo-echotest) is Asterisk's own
    // prompt, which it could not play on an opus call (it has no opus encoder).
    await mute();
    expect(await application()).toBe('Playback');
    expect(await hearsSound(page, 'the prompt')).toBeGreaterThan(1e-4);
    expect(asterisk.log()).not.toMatch(/Playback failed|Unable to find a codec translation path/);
    // The prompt lasts 22 s; then Echo() runs.
    await eventually(
      application,
      (app) => app === 'Echo',
      (app) => `Asterisk still runs ${app}`,
      { ms: 40_000, everyMs: 200 },
    );
    // A muted page's echo is silence…
    expect(await hearsSilence(page, 'muted, the echo')).toBeLessThan(1e-6);
    // …unmuted, the echo carries the beeps of the page's fake microphone…
    await mute();
    expect(await hearsSound(page, 'unmuted, the echo')).toBeGreaterThan(1e-4);
    // …and muted again it goes silent again: the page hears its own microphone, not a tone.
    await mute();
    expect(await hearsSilence(page, 'muted again, the echo')).toBeLessThan(1e-6);

    await page.getByTestId('hangup-button').click();
    await noChannelsLeft(asterisk);
    await page.context().close();
  }, 90_000);

  it('three pages in ConfBridge 700: each hears each of the other two, and no one while all are muted', async () => {
    const users = ['carol', 'dave', 'erin'];
    const pages: Page[] = [];
    for (const user of users) {
      const page = await signedIn(user);
      await page.getByTestId('dial-input').fill('700');
      await page.getByTestId('dial-button').click();
      await expectText(page, 'call-state', 'active', 15_000);
      await page.getByTestId('mute-button').click();
      pages.push(page);
    }
    await eventually(
      () => asterisk.cli('confbridge list 700'),
      (output) => (output.match(/PJSIP\/kamailio-/g) ?? []).length === 3,
      (output) => `not three in the conference: ${output}`,
    );
    // All muted: once the join prompts are over, the conference is silent for everyone.
    for (const page of pages) await hearsSilence(page, 'all muted', { ms: 20_000 });
    // One speaks at a time (its fake microphone's beeps): the other two hear it, itself not.
    for (const [index, speaker] of pages.entries()) {
      await speaker.getByTestId('mute-button').click();
      for (const [other, listener] of pages.entries())
        if (other !== index) await hearsSound(listener, `${users[other]} hearing ${users[index]}`);
      await hearsSilence(speaker, `${users[index]} hearing itself`);
      await speaker.getByTestId('mute-button').click();
      for (const page of pages) await hearsSilence(page, 'all muted again');
    }
    for (const page of pages) {
      await page.getByTestId('hangup-button').click();
      await page.context().close();
    }
    await noChannelsLeft(asterisk);
  }, 120_000);

  it('DTMF into the IVR on 800: Read() takes the page’s 2 as RFC 4733 and as SIP INFO, and goes to the echo test', async () => {
    const page = await signedIn('frank');
    const concise = async () =>
      (
        (await asterisk.cli('core show channels concise')).split('\n').find((l) => l.includes('!')) ?? ''
      ).split('!');
    for (const method of ['rfc4733', 'info'] as const) {
      await page.getByTestId('dial-input').fill('800');
      await page.getByTestId('dial-button').click();
      await expectText(page, 'call-state', 'active', 15_000);
      await eventually(
        concise,
        (fields) => fields[2] === '800' && fields[5] === 'Read',
        (fields) => `not in Read() on 800: ${fields.join('!')}`,
      );
      const info = page.getByTestId('dtmf-info');
      if ((await info.isChecked()) !== (method === 'info')) await info.click();
      await page.getByTestId('dtmf-2').click();
      // "2" goes to the echo test: the channel is on 600 now.
      await eventually(
        concise,
        (fields) => fields[2] === '600',
        (fields) => `${method}: Read() did not take the 2: ${fields.join('!')}`,
      );
      await page.getByTestId('hangup-button').click();
      await noChannelsLeft(asterisk);
      await expectText(page, 'registration-state', 'registered');
    }
    await page.context().close();
  }, 90_000);

  it('Asterisk calls the page through Kamailio (channel originate on its trunk): unchallenged from the PBX, bridged by rtpengine, the page hears the prompt', async () => {
    const page = await signedIn('grace');
    // The trunk's contact is Kamailio's address: the INVITE's Request-URI is sip:grace@<Kamailio>.
    await withLogsOnFailure({ asterisk: asterisk.log, kamailio: kamailio.log }, async () => {
      await asterisk.cli('channel originate PJSIP/grace@kamailio application Playback demo-echotest');
      await page.getByTestId('answer-button').click({ timeout: 10_000 });
    });
    await expectText(page, 'call-state', 'active', 15_000);
    const channel = (await asterisk.cli('core show channels concise')).split('!')[0] as string;
    expect(channel).toMatch(/^PJSIP\/kamailio-/);
    // Plain RTP on Asterisk's side in a codec it can encode; the page's side is WebRTC (DTLS-SRTP,
    // ICE): rtpengine bridged the two, or the page would hear nothing.
    const details = await asterisk.cli(`core show channel ${channel}`);
    expect(details).toMatch(/NativeFormats:\s*\((g722|ulaw|alaw)\)/);
    expect(await waitForAudio(page)).toBeGreaterThan(1000);
    // Muted: what it hears is Asterisk's prompt, not its own microphone.
    await page.getByTestId('mute-button').click();
    expect(await hearsSound(page)).toBeGreaterThan(1e-4);
    expect(asterisk.log()).not.toMatch(/Playback failed|Unable to find a codec translation path/);
    await page.getByTestId('hangup-button').click();
    await noChannelsLeft(asterisk);

    // The same INVITE from any other address, even one on the PBX's host claiming to be it, is
    // challenged: only the dispatcher's own address and port are trusted.
    const impostor = await UdpSipPhone.open(kamailio.udp, { domain: 'ringway.test' });
    try {
      const callId = `impostor-${Date.now()}`;
      impostor.send(
        impostor.request('INVITE', `sip:grace@${kamailio.udp}`, {
          from: `sip:asterisk@${asterisk.udp}`,
          callId,
        }),
      );
      const answer = await impostor.finalResponse(callId, 1);
      expect(answer.kind === 'response' && answer.status).toBe(407);
      expect(impostor.requests).toEqual([]);
    } finally {
      impostor.close();
    }
    await page.context().close();
  }, 60_000);
});

// Issue 24 §2, browsers straight on Asterisk: Ringway's Phone registered over WebSocket to the
// webrtc=yes endpoint 6001 of the project's config (digest auth by Asterisk), ICE and DTLS-SRTP
// with Asterisk itself. Asterisk offers no 127/8 candidate: it reaches the browser on the
// namespace's 192.0.2.1 (scripts/in-loopback-namespace.sh).
describe('Ringway’s Phone registered straight on Asterisk (webrtc=yes endpoint 6001)', () => {
  let asterisk: RunningAsterisk;
  let pages: Awaited<ReturnType<typeof startSoftphonePages>>;

  beforeAll(async () => {
    asterisk = await startAsterisk({ sounds: true });
    pages = await startSoftphonePages();
  }, 60_000);

  afterAll(async () => {
    await pages?.close();
    await asterisk?.stop();
  });

  it('registers with its digest credential, calls 600 and hears Asterisk’s prompt over DTLS-SRTP', async () => {
    const page = await pages.phone('ringway', '6001', asterisk.wsUrl, {
      username: '6001',
      password: 'change-me-6001',
    });
    await registeredWithAsterisk(asterisk, ['6001']);
    await page.evaluate(() => window.phone.dial('sip:600@ringway.test'));
    await page.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
    const channel = (await asterisk.cli('core show channels concise')).split('!')[0] as string;
    expect(channel).toMatch(/^PJSIP\/6001-/);
    expect(await asterisk.cli(`core show channel ${channel}`)).toMatch(/NativeFormats:\s*\(g722\)/);
    expect(await audioFlows(page)).toBeGreaterThan(1000);
    // The prompt (demo-echotest) in G.722, encrypted by Asterisk.
    expect(await audible(page)).toBeGreaterThan(0.01);
    expect(asterisk.log()).not.toMatch(/Playback failed|Unable to find a codec translation path/);
    await page.evaluate(() => window.phone.hangup());
    await noChannelsLeft(asterisk);
    await page.context().close();
  }, 60_000);
});

// Issue 24 §2, an existing PBX: the gateway's upstream pointed straight at Asterisk's UDP
// transport (no Kamailio, no rtpengine), the page signing in with the endpoint's own digest
// credential, which Asterisk checks. The "put browsers on my Asterisk" recipe.
describe('the gateway in front of an existing Asterisk (upstream straight at it)', () => {
  let asterisk: RunningAsterisk;
  let gateway: RunningGateway;
  let browser: Browser;

  beforeAll(async () => {
    asterisk = await startAsterisk({ sounds: true });
    gateway = await startUpstreamGateway(asterisk.udp);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await asterisk?.stop();
  });

  const signOut = (page: Page, endpoint: string) => signOutOfAsterisk(asterisk, page, endpoint);
  const signedInAs = (endpoint: string) => signedInOnAsterisk(browser, gateway.port, asterisk, endpoint);

  it('no one answers 6001 (not registered): the page leaves a message in its voicemail box', async () => {
    const page = await signedInAs('6002');
    await page.getByTestId('dial-input').fill('6001');
    await page.getByTestId('dial-button').click();
    await expectText(page, 'call-state', 'active', 15_000);
    await eventually(
      async () => (await asterisk.cli('core show channels concise')).split('!')[5] ?? '',
      (app) => app === 'VoiceMail',
      (app) => `not in VoiceMail(): ${app}`,
    );
    // After the greeting and the beep it records the page's microphone: a second of it.
    const box = join(asterisk.folder, 'spool', 'voicemail', 'default', '6001');
    const recorded = () => voicemailRecordedBytes(asterisk, '6001');
    await eventually(
      recorded,
      (size) => size > 16_000,
      (size) => `only ${size} bytes recorded`,
      { ms: 30_000 },
    );
    await page.getByTestId('hangup-button').click();
    const inbox = join(box, 'INBOX');
    const message = await eventually(
      () => (existsSync(join(inbox, 'msg0000.txt')) ? readFileSync(join(inbox, 'msg0000.txt'), 'utf8') : ''),
      (text) => /duration=\d+/.test(text),
      () => 'no message in 6001’s INBOX',
    );
    expect(message).toMatch(/callerid=.*6002/);
    expect(statSync(join(inbox, 'msg0000.wav')).size).toBeGreaterThan(16_000);
    // The page's microphone (Chromium's fake one beeps), not silence.
    expect(wavPeak(join(inbox, 'msg0000.wav'))).toBeGreaterThan(1000);
    expect(await asterisk.cli('voicemail show users')).toMatch(/default\s+6001\s+Ringway user\s+1\b/);
    await signOut(page, '6002');
  }, 60_000);

  it('the page signs in as 6001 with its Asterisk password, registers, calls 600 and hears the prompt', async () => {
    const page = await signedInAs('6001');
    await registeredWithAsterisk(asterisk, ['6001']);
    await page.getByTestId('dial-input').fill('600');
    await page.getByTestId('dial-button').click();
    await expectText(page, 'call-state', 'active', 15_000);
    const channel = (await asterisk.cli('core show channels concise')).split('!')[0] as string;
    expect(channel).toMatch(/^PJSIP\/6001-/);
    expect(await waitForAudio(page)).toBeGreaterThan(1000);
    await page.getByTestId('mute-button').click();
    expect(await hearsSound(page)).toBeGreaterThan(1e-4);
    await page.getByTestId('hangup-button').click();
    await noChannelsLeft(asterisk);
    await signOut(page, '6001');
  }, 60_000);

  it('6001 calls 6002, both pages behind the gateway: Asterisk reaches 6002 along its Path, each hears the other', async () => {
    const caller = await signedInAs('6001');
    const callee = await signedInAs('6002');
    await registeredWithAsterisk(asterisk, ['6001', '6002']);
    await caller.getByTestId('dial-input').fill('6002');
    await caller.getByTestId('dial-button').click();
    await callee.getByTestId('answer-button').click({ timeout: 10_000 });
    await expectText(caller, 'call-state', 'active', 15_000);
    await expectText(callee, 'call-state', 'active', 15_000);
    expect(await asterisk.cli('core show channels concise')).toMatch(
      /^PJSIP\/6001-[^!]*!from-kamailio!6002!\d+!Up!Dial!/m,
    );
    expect(await waitForAudio(caller)).toBeGreaterThan(1000);
    expect(await waitForAudio(callee)).toBeGreaterThan(1000);
    // Each hears the other's microphone: energy while the other is unmuted, none once it mutes.
    for (const [speaker, listener] of [
      [caller, callee],
      [callee, caller],
    ] as const) {
      await hearsSound(listener);
      await speaker.getByTestId('mute-button').click();
      await hearsSilence(listener);
      await speaker.getByTestId('mute-button').click();
    }
    await caller.getByTestId('hangup-button').click();
    await noChannelsLeft(asterisk);
    await signOut(caller, '6001');
    await signOut(callee, '6002');
  }, 60_000);

  it('6002 holds a call from 6001: Asterisk plays its music on hold to 6001, and stops when 6002 resumes', async () => {
    expect(await asterisk.cli('moh show classes')).toMatch(
      /Class: default\s*\n\s*Mode: files\s*\n\s*Directory: moh/,
    );
    // Debian's asterisk-moh-opsound-gsm, linked as the data folder's moh.
    expect(await asterisk.cli('moh show files')).toMatch(/Class: default\s*\n(\s*File: .*moh\/\S+\s*\n){5}/);
    const caller = await signedInAs('6001');
    const callee = await signedInAs('6002');
    await registeredWithAsterisk(asterisk, ['6001', '6002']);
    await caller.getByTestId('dial-input').fill('6002');
    await caller.getByTestId('dial-button').click();
    await callee.getByTestId('answer-button').click({ timeout: 10_000 });
    await expectText(caller, 'call-state', 'active', 15_000);
    await expectText(callee, 'call-state', 'active', 15_000);
    expect(await waitForAudio(caller)).toBeGreaterThan(1000);
    expect(await waitForAudio(callee)).toBeGreaterThan(1000);
    await hearsSound(caller);
    await hearsSound(callee);
    // 6002 mutes: whatever 6001 hears from now on is not 6002's microphone.
    await callee.getByTestId('mute-button').click();
    await hearsSilence(caller);
    const callerChannel = () =>
      asterisk
        .cli('core show channels concise')
        .then((output) => /^(PJSIP\/6001-[^!]+)!/m.exec(output)?.[1] ?? 'no 6001 channel');
    const channel = await callerChannel();
    // Bridged to 6002, Asterisk writes to 6001 what 6002 sends: G.722 as it came.
    expect(await asterisk.cli(`core show channel ${channel}`)).not.toMatch(/WriteFormat:\s*gsm/);

    // Hold (a sendonly re-INVITE from the page): Asterisk plays the default class to 6001.
    await callee.getByTestId('hold-button').click();
    await expectText(callee, 'call-state', 'held', 10_000);
    expect(await hearsSound(caller)).toBeGreaterThan(1e-4);
    // What it hears is the music's GSM files, transcoded to the call's G.722 (the dialplan plays
    // no prompt in Dial: nothing else on this channel is GSM).
    const held = await asterisk.cli(`core show channel ${channel}`);
    expect(held).toMatch(/WriteFormat:\s*gsm/);
    expect(held).toMatch(/WriteTranscode:\s*Yes \(gsm@8000\)->.*\(g722@16000\)/);
    expect(asterisk.log()).not.toMatch(/(WARNING|ERROR).*res_musiconhold/);

    // Resumed: the music stops, and 6002 is still muted, so 6001 hears silence again.
    await callee.getByTestId('hold-button').click();
    await expectText(callee, 'call-state', 'active', 10_000);
    await hearsSilence(caller);
    expect(await asterisk.cli(`core show channel ${channel}`)).not.toMatch(/WriteFormat:\s*gsm/);

    await caller.getByTestId('hangup-button').click();
    await noChannelsLeft(asterisk);
    await signOut(caller, '6001');
    await signOut(callee, '6002');
  }, 90_000);

  it('Asterisk calls the page (channel originate): it rings, answers and hears the prompt', async () => {
    const page = await signedInAs('6002');
    await registeredWithAsterisk(asterisk, ['6002']);
    await asterisk.cli('channel originate PJSIP/6002 application Playback demo-echotest');
    await page.getByTestId('answer-button').click({ timeout: 10_000 });
    await expectText(page, 'call-state', 'active', 15_000);
    await page.getByTestId('mute-button').click();
    expect(await hearsSound(page)).toBeGreaterThan(1e-4);
    await page.getByTestId('hangup-button').click();
    await noChannelsLeft(asterisk);
    await signOut(page, '6002');
  }, 60_000);
});

describe('two Ringway Phones straight on Asterisk call each other through Dial(PJSIP/…)', () => {
  let asterisk: RunningAsterisk;
  let pages: Awaited<ReturnType<typeof startSoftphonePages>>;

  beforeAll(async () => {
    asterisk = await startAsterisk();
    pages = await startSoftphonePages();
  }, 60_000);

  afterAll(async () => {
    await pages?.close();
    await asterisk?.stop();
  });

  const registered = async (user: string) => {
    const page = await pages.phone('ringway', user, asterisk.wsUrl, {
      username: user,
      password: `change-me-${user}`,
    });
    await registeredWithAsterisk(asterisk, [user]);
    return page;
  };

  it('6001 dials 6002, 6002 answers, each hears the other', async () => {
    const caller = await registered('6001');
    const callee = await registered('6002');
    await caller.evaluate(() => window.phone.dial('sip:6002@ringway.test'));
    await callee.evaluate(() => window.phone.answer());
    await caller.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
    await callee.waitForFunction(() => window.phone.established(), undefined, { timeout: 10_000 });
    const channels = await asterisk.cli('core show channels concise');
    expect(channels).toMatch(/^PJSIP\/6001-[^!]*!from-kamailio!6002!\d+!Up!Dial!/m);
    expect(channels).toMatch(/^PJSIP\/6002-/m);
    expect(await audioFlows(caller)).toBeGreaterThan(1000);
    expect(await audioFlows(callee)).toBeGreaterThan(1000);
    // Chromium's fake microphones beep: each page hears the other's beeps through Asterisk.
    expect(await audible(caller)).toBeGreaterThan(0.01);
    expect(await audible(callee)).toBeGreaterThan(0.01);
    await caller.evaluate(() => window.phone.hangup());
    await noChannelsLeft(asterisk);
    await Promise.all([caller, callee].map((page) => page.context().close()));
  }, 60_000);
});
