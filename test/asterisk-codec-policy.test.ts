import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import type { CodecPolicy } from '../packages/sdp/src/codec-policy.js';
import {
  type PbxBehindKamailio,
  type RunningAsterisk,
  startAsteriskBehindKamailio,
} from './support/asterisk.js';
import { hearsSilence, hearsSound, noChannelsLeft } from './support/asterisk-checks.js';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import type { RunningKamailio } from './support/kamailio.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { expectText, registeredWithPassword, waitForAudio } from './support/softphone-app.js';

// Issue 24 §4: the gateway's in-flight codec policy (CODEC_POLICY_UPSTREAM, @ringway/sdp) in front
// of a real Asterisk, behind the stack: Ringway's page → gateway (upstream) → Kamailio (WITH_PBX)
// → rtpengine → Asterisk's `kamailio` trunk (allow=g722,ulaw,alaw,opus, local_first) → 600:
// Playback(demo-echotest), then Echo(). Chromium offers opus first; Asterisk has no opus codec
// (codec_opus is not open source), so what its channel takes decides whether its prompts play.
// One gateway per policy, each with a user of its own.

const SECRET = 'asterisk-codec-policy-secret-0123456789';
const PROMPT_FAILED = /Playback failed|Unable to find a codec translation path/;

describe('codec policy in front of a real Asterisk behind Kamailio: which codec its channel takes, and whether its prompt plays', () => {
  let asterisk: RunningAsterisk;
  let pbx: PbxBehindKamailio;
  let kamailio: RunningKamailio;
  let browser: Browser;

  beforeAll(async () => {
    pbx = await startAsteriskBehindKamailio(SECRET);
    ({ asterisk, kamailio } = pbx);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await pbx?.stop();
  });

  /** An upstream gateway with this policy (the built-in one when none), closed after `run`. */
  const withGateway = async (
    user: string,
    policy: CodecPolicy | undefined,
    run: (gateway: RunningGateway) => Promise<void>,
  ) => {
    const gateway = await startUpstreamGateway(kamailio.udp, {
      AUTH_SECRET: SECRET,
      USERS_FILE: usersFileWith([user]),
      ...(policy ? { CODEC_POLICY_UPSTREAM: JSON.stringify(policy) } : {}),
    });
    try {
      await run(gateway);
    } finally {
      await gateway.close();
    }
  };

  const signedIn = (gateway: RunningGateway, user: string) =>
    registeredWithPassword(browser, `http://127.0.0.1:${gateway.port}`, user, passwordOf(user));

  /** Asterisk's one channel (`core show channels concise`): name, extension and application. */
  const channel = async () => {
    const fields = (
      (await asterisk.cli('core show channels concise')).split('\n').find((l) => l.includes('!')) ?? ''
    ).split('!');
    return { name: fields[0] ?? '', exten: fields[2] ?? '', application: fields[5] ?? '' };
  };

  /** The codecs Asterisk's channel runs in (`core show channel` NativeFormats). */
  const nativeFormats = async (name: string) =>
    /NativeFormats:\s*\(([^)]*)\)/.exec(await asterisk.cli(`core show channel ${name}`))?.[1] ?? 'none';

  /** "N calls processed" of `core show channels`: every call that reached Asterisk's dialplan. */
  const callsProcessed = async () =>
    Number(/^(\d+) calls? processed/m.exec(await asterisk.cli('core show channels'))?.[1] ?? Number.NaN);

  /** The page dials 600 and is answered by Asterisk; muted at once, so what it hears is Asterisk's. */
  const dial600 = async (page: Page) => {
    await page.getByTestId('dial-input').fill('600');
    await page.getByTestId('dial-button').click();
    await expectText(page, 'call-state', 'active', 15_000);
    await page.getByTestId('mute-button').click();
    expect(await waitForAudio(page)).toBeGreaterThan(1000);
    const answered = await channel();
    expect(answered.name).toMatch(/^PJSIP\/kamailio-/);
    return answered.name;
  };

  const hangUp = async (page: Page) => {
    await page.getByTestId('hangup-button').click();
    await noChannelsLeft(asterisk);
    await page.context().close();
  };

  /** With this policy the channel takes `format` and the page hears the prompt, with no codec error. */
  const promptPlaysIn = (user: string, policy: CodecPolicy | undefined, format: string) =>
    withGateway(user, policy, async (gateway) => {
      const page = await signedIn(gateway, user);
      const logBefore = asterisk.log().length;
      const name = await dial600(page);
      expect(await nativeFormats(name)).toBe(format);
      expect((await channel()).application).toBe('Playback');
      expect(await hearsSound(page)).toBeGreaterThan(1e-4);
      expect(asterisk.log().slice(logBefore)).not.toMatch(PROMPT_FAILED);
      await hangUp(page);
    });

  it('the built-in upstream policy (G.711 first): Asterisk answers with the first codec of its own list, G.722, and its prompt plays', async () => {
    await promptPlaysIn('ann', undefined, 'g722');
  }, 60_000);

  it('{"preferences":["opus/48000/2"]} (opus first, all kept): Asterisk still picks G.722 (local_first), and its prompt plays', async () => {
    await promptPlaysIn('ben', { preferences: ['opus/48000/2'] }, 'g722');
  }, 60_000);

  it('{"allow":["PCMU/8000"]}: the channel is ulaw and the prompt plays', async () => {
    await promptPlaysIn('cat', { allow: ['PCMU/8000'] }, 'ulaw');
  }, 60_000);

  it('{"allow":["PCMA/8000"]}: the channel is alaw and the prompt plays', async () => {
    await promptPlaysIn('dan', { allow: ['PCMA/8000'] }, 'alaw');
  }, 60_000);

  it('{"allow":["opus/48000/2"]}: opus passes through Asterisk, which cannot play its prompt in it (why a policy toward a PBX keeps a codec it can decode)', async () => {
    await withGateway('eve', { allow: ['opus/48000/2'] }, async (gateway) => {
      const page = await signedIn(gateway, 'eve');
      const logBefore = asterisk.log().length;
      const name = await dial600(page);
      expect(await nativeFormats(name)).toBe('opus');
      // No opus encoder: the prompt's GSM cannot become opus, Playback fails, and the dialplan goes
      // on to Echo().
      const log = await eventually(
        () => asterisk.log().slice(logBefore),
        (text) => /Playback failed on PJSIP\/kamailio-\S+ for demo-echotest/.test(text),
        (text) => `Playback did not fail: ${text}`,
      );
      expect(log).toMatch(/Unable to find a codec translation path: \(gsm\) -> \(opus\)/);
      await eventually(
        channel,
        (now) => now.application === 'Echo',
        (now) => `not in Echo(): ${now.application}`,
      );
      // The muted page hears nothing: no prompt reached it.
      await hearsSilence(page);
      // Opus itself passes: unmuted, the page hears its own microphone echoed, untouched by Asterisk.
      await page.getByTestId('mute-button').click();
      expect(await hearsSound(page)).toBeGreaterThan(1e-4);
      await hangUp(page);
    });
  }, 60_000);

  it('{"allow":["G729/8000"]} (Chromium offers no G.729): the gateway answers 488 with Warning 305 before Asterisk is reached; the page says “no common codec”', async () => {
    const before = await callsProcessed();
    expect(before).not.toBeNaN();
    await withGateway('fay', { allow: ['G729/8000'] }, async (gateway) => {
      const page = await signedIn(gateway, 'fay');
      await page.getByTestId('dial-input').fill('600');
      await page.getByTestId('dial-button').click();
      await expectText(page, 'call-state', /^failed: no common codec \(488\)/, 15_000);
      const reason = await page.evaluate(
        () =>
          (
            globalThis as unknown as {
              ringway: { current(): { endReason?: { code?: number; warning?: string } } };
            }
          ).ringway.current()?.endReason,
      );
      expect(reason?.code).toBe(488);
      // RFC 3261 §20.43: warn-code 305, "Incompatible media format", naming what was offered and allowed.
      expect(reason?.warning).toMatch(
        /^305 \S+ "Incompatible media format: offered .*opus.*; allowed G729\/8000"$/,
      );
      await page.context().close();
    });
    // Asterisk never saw that call: its counter is where it was…
    expect(await callsProcessed()).toBe(before);
    // …and counts the next call that does reach it, so it would have counted the refused one.
    await withGateway('gus', undefined, async (gateway) => {
      const page = await signedIn(gateway, 'gus');
      await dial600(page);
      expect(await callsProcessed()).toBe(before + 1);
      await hangUp(page);
    });
  }, 60_000);
});
