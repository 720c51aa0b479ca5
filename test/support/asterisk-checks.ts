import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { RunningAsterisk } from './asterisk.js';
import { eventually } from './eventually.js';
import { registeredWithPassword, stopPhone } from './softphone-app.js';

// What the Asterisk tests wait for, read from Asterisk's CLI and from the page's own call stats.

/**
 * The audio energy (RTCStats inbound-rtp totalAudioEnergy) the page's call receives in about
 * `ms`: Chromium's fake microphone beeps twice a second, so an echo of it adds energy in every
 * window longer than half a second, and an echo of a muted microphone adds none.
 */
export const energyIn = (page: Page, ms: number) =>
  page.evaluate(async (window) => {
    const ringway = (
      globalThis as unknown as { ringway: { current(): { peerConnection?: RTCPeerConnection } } }
    ).ringway;
    const energy = async () => {
      let total = 0;
      const stats = await ringway.current()?.peerConnection?.getStats();
      stats?.forEach((report: { type: string; kind?: string; totalAudioEnergy?: number }) => {
        if (report.type === 'inbound-rtp' && report.kind === 'audio') total += report.totalAudioEnergy ?? 0;
      });
      return total;
    };
    const before = await energy();
    await new Promise((resolve) => setTimeout(resolve, window));
    return (await energy()) - before;
  }, ms);

/** Waits until Asterisk holds no channel: the call has ended on its side too. */
export const noChannelsLeft = (asterisk: RunningAsterisk) =>
  eventually(
    () => asterisk.cli('core show channels count'),
    (output) => /^0 active channels?/m.test(output),
    (output) => `Asterisk still has channels: ${output}`,
  );

/** Waits until each endpoint has a contact registered with Asterisk. */
export const registeredWithAsterisk = (asterisk: RunningAsterisk, endpoints: string[]) =>
  eventually(
    () => asterisk.cli('pjsip show contacts'),
    (output) => endpoints.every((endpoint) => new RegExp(`Contact:\\s+${endpoint}/sip:`).test(output)),
    (output) => `${endpoints.join(' and ')} not registered with Asterisk: ${output}`,
  );

/** Waits until the page hears sound (a prompt, an echo, another party): its energy per second. */
export const hearsSound = (page: Page, what = 'the page', wait?: { ms: number }) =>
  eventually(
    () => energyIn(page, 1000),
    (e) => e > 1e-4,
    (e) => `${what}: only ${e} per second heard`,
    wait,
  );

/** Waits until the page hears silence: its energy per second. */
export const hearsSilence = (page: Page, what = 'the page', wait?: { ms: number }) =>
  eventually(
    () => energyIn(page, 1000),
    (e) => e < 1e-6,
    (e) => `${what}: still ${e} per second heard`,
    wait,
  );

/**
 * A page behind the gateway (its upstream straight at Asterisk) signed in as an Asterisk endpoint
 * with that endpoint's own password, once Asterisk has its contact.
 */
export async function signedInOnAsterisk(
  browser: Browser,
  gatewayPort: number,
  asterisk: RunningAsterisk,
  endpoint: string,
): Promise<Page> {
  const page = await registeredWithPassword(
    browser,
    `http://127.0.0.1:${gatewayPort}`,
    endpoint,
    `change-me-${endpoint}`,
  );
  await registeredWithAsterisk(asterisk, [endpoint]);
  return page;
}

/**
 * Unregisters the page's phone and closes it, then waits until Asterisk has no contact of
 * `endpoint` left: a page closed while registered leaves one, which Dial may pick until it expires.
 */
export async function signOutOfAsterisk(
  asterisk: RunningAsterisk,
  page: Page,
  endpoint: string,
): Promise<void> {
  await stopPhone(page);
  await page.context().close();
  await eventually(
    () => asterisk.cli('pjsip show contacts'),
    (output) => !new RegExp(`Contact:\\s+${endpoint}/sip:`).test(output),
    (output) => `${endpoint} still registered with Asterisk: ${output}`,
  );
}

/** The bytes Asterisk has recorded so far of a message being left in `mailbox` (its tmp folder). */
export function voicemailRecordedBytes(asterisk: RunningAsterisk, mailbox: string): number {
  const tmp = join(asterisk.folder, 'spool', 'voicemail', 'default', mailbox, 'tmp');
  if (!existsSync(tmp)) return 0;
  return readdirSync(tmp)
    .filter((name) => name.endsWith('.wav'))
    .reduce((size, name) => size + statSync(join(tmp, name)).size, 0);
}
