import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { type RunningAsterisk, startAsterisk } from './support/asterisk.js';
import {
  hearsSound,
  noChannelsLeft,
  signedInOnAsterisk,
  signOutOfAsterisk,
  voicemailRecordedBytes,
} from './support/asterisk-checks.js';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import { contactLamp, expectText } from './support/softphone-app.js';

// Issue 24 §3, what PBX users expect, on Ringway's page behind the gateway whose upstream is the
// real Asterisk (the "put browsers on my Asterisk" recipe): the message-waiting lamp fed by
// Asterisk's message-summary NOTIFYs and *97 to listen, and the contact lamps fed by its hints.
describe('voicemail lamp and BLF from Asterisk on Ringway’s page', () => {
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

  const signedInAs = (endpoint: string) => signedInOnAsterisk(browser, gateway.port, asterisk, endpoint);
  const signOut = (page: Page, endpoint: string) => signOutOfAsterisk(asterisk, page, endpoint);

  /** Which dialplan application Asterisk's channel of `endpoint` runs (`core show channels concise`). */
  const applicationOf = async (endpoint: string) =>
    (await asterisk.cli('core show channels concise'))
      .split('\n')
      .find((line) => line.startsWith(`PJSIP/${endpoint}-`))
      ?.split('!')[5] ?? 'none';

  it('6001 declines 6002’s call, 6002 leaves a message: 6001’s lamp lights with 1 new; *97 plays it and the lamp goes out', async () => {
    const owner = await signedInAs('6001');
    // Asterisk accepted the page's message-summary subscription: an empty box, and the button
    // that calls *97 (Asterisk's Message-Account).
    await expectText(owner, 'voicemail-count', 'no messages');
    expect(await owner.locator('body').getAttribute('data-voicemail')).toBe('empty');
    expect(await owner.getByTestId('voicemail-button').isEnabled()).toBe(true);
    expect(await asterisk.cli('pjsip show subscriptions inbound')).toMatch(/message-summary/);

    const caller = await signedInAs('6002');
    await caller.getByTestId('dial-input').fill('6001');
    await caller.getByTestId('dial-button').click();
    // Busy (486) ends Dial() at once, and the dialplan goes on to VoiceMail().
    await owner.getByTestId('decline-button').click({ timeout: 10_000 });
    await expectText(caller, 'call-state', 'active', 15_000);
    await eventually(
      () => applicationOf('6002'),
      (app) => app === 'VoiceMail',
      (app) => `6002 is not in VoiceMail(): ${app}`,
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
    await caller.getByTestId('hangup-button').click();

    // The message is in; Asterisk's NOTIFY lights the owner's lamp.
    await expectText(owner, 'voicemail-count', '1 new', 15_000);
    expect(await owner.locator('body').getAttribute('data-voicemail')).toBe('waiting');

    // *97: Asterisk knows the page by the endpoint it authenticated, so no PIN is asked; "1"
    // plays the new message.
    await owner.getByTestId('voicemail-button').click();
    await expectText(owner, 'call-state', 'active', 15_000);
    await eventually(
      () => applicationOf('6001'),
      (app) => app === 'VoiceMailMain',
      (app) => `6001 is not in VoiceMailMain(): ${app}`,
    );
    await owner.getByTestId('mute-button').click();
    expect(await hearsSound(owner)).toBeGreaterThan(1e-4);
    // Asterisk's log of what it plays (a file of its own, verbose level 3) is the witness.
    const played = join(asterisk.folder, 'log', 'played');
    await asterisk.cli('logger add channel played verbose(3)');
    await owner.getByTestId('dtmf-1').click();
    await eventually(
      () => (existsSync(played) ? readFileSync(played, 'utf8') : ''),
      (log) => /Playing '[^']*INBOX\/msg0000/.test(log),
      (log) => `Asterisk did not play the message: ${log.slice(-2000)}`,
      { ms: 30_000 },
    );
    // Heard, the message moves from INBOX to Old when the call ends, and the lamp goes out.
    await owner.getByTestId('hangup-button').click();
    await eventually(
      () => existsSync(join(box, 'Old', 'msg0000.txt')),
      (moved) => moved,
      () => 'the message was not moved to Old',
    );
    await expectText(owner, 'voicemail-count', '1 old', 15_000);
    expect(await owner.locator('body').getAttribute('data-voicemail')).toBe('empty');
    await noChannelsLeft(asterisk);
    await signOut(caller, '6002');
    await signOut(owner, '6001');
  }, 120_000);

  it('6001 watches 6002 through Asterisk’s hint: offline, online, ringing, on a call, online, offline', async () => {
    const watcher = await signedInAs('6001');
    await watcher.getByTestId('contact-name-input').fill('Desk 6002');
    await watcher.getByTestId('contact-address-input').fill('6002');
    await watcher.getByTestId('contact-add-button').click();
    await contactLamp(watcher, '6002', 'offline');

    const watched = await signedInAs('6002');
    await contactLamp(watcher, '6002', 'online');
    // The watcher calls 6002 (Dial through Asterisk): ringing, then on a call once answered.
    await watcher.getByTestId('dial-input').fill('6002');
    await watcher.getByTestId('dial-button').click();
    await contactLamp(watcher, '6002', 'ringing');
    await watched.getByTestId('answer-button').click({ timeout: 10_000 });
    await contactLamp(watcher, '6002', 'on-call');
    await watcher.getByTestId('hangup-button').click();
    await contactLamp(watcher, '6002', 'online');
    await noChannelsLeft(asterisk);
    await signOut(watched, '6002');
    await contactLamp(watcher, '6002', 'offline');
    await signOut(watcher, '6001');
  }, 90_000);
});
