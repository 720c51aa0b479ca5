import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, chromium, type Page } from 'playwright-core';
import { fingerprints } from '../../packages/gateway/src/tls/server-certificate.js';
import { CHROMIUM_ARGS } from '../support/chromium-args.mjs';
import { eventually } from '../support/eventually.js';
import { type SecondMachine, secondMachine } from '../support/second-machine.js';
import {
  audioBytesReceived,
  audioGrowsBeyond,
  callAndAnswer,
  contactLamp,
  expectText,
  signInWithPassword,
  waitForAudio,
} from '../support/softphone-app.js';
import { wavPeak } from '../support/wav.js';
import {
  compose,
  composeOrThrow,
  composeVersion,
  containerHealth,
  dockerVersion,
  healthChecksOf,
  hostPidOf,
  inspectedCommand,
  leftovers,
  memoryUse,
  processesOf,
  restartCount,
  saveLogs,
  unnamedImages,
} from './compose-stack.js';

// Issue 13: the bundled stack run for real on a Docker engine — `up` to healthy, two people sign
// in with passwords and call each other, browsers dial Asterisk's echo (600) and conference (700),
// Kamailio restarts, and `down` leaves nothing. The browsers run on a "second machine" attached to
// the compose network only, and open the page over HTTPS at the gateway's address there, as
// someone on the LAN would, trusting the self-signed certificate the gateway made on its first
// start. Asterisk is the real one (issue 24): docker-compose.yml's public image, or where that
// cannot be pulled, test/stack/asterisk/'s image of the shared Asterisk 22 build.
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const results = join(root, '.ci/results');
const GATEWAY = 'https://172.28.0.5:8080';
const SERVICES = ['asterisk', 'coturn', 'gateway', 'kamailio', 'redis', 'rtpengine'];
/** The one-shot configuration check every service sharing the secrets waits for: exited 0. */
const CHECK = 'gateway-config';
const env: NodeJS.ProcessEnv = {
  ...process.env,
  AUTH_SECRET: randomBytes(24).toString('base64'),
  ADMIN_TOKEN: randomBytes(24).toString('base64'),
};
const PASSWORDS: Record<string, string> = { alice: 'alice-in-the-stack', bob: 'bob-in-the-stack' };
let host: SecondMachine | undefined;
const browsers: Browser[] = [];
let alice: Page;
let bob: Page;
let healthySeconds = Number.NaN;
let failed = false;

/** Waits until every service reports healthy; returns the seconds since `since`. */
async function whenHealthy(since: number, timeoutMs = 120_000): Promise<number> {
  const health = await eventually(
    async () => containerHealth(),
    (found) => SERVICES.every((service) => found.get(service) === 'healthy'),
    (found) => `not healthy after ${timeoutMs / 1000} s: ${JSON.stringify(Object.fromEntries(found))}`,
    { ms: timeoutMs, everyMs: 250 },
  );
  expect([...health.keys()].sort()).toEqual([...SERVICES, CHECK].sort());
  expect(health.get(CHECK)).toBe('exited 0');
  return (Date.now() - since) / 1000;
}

/** The public key of the self-signed certificate the gateway made, which a person would accept once. */
let trustedKey = '';

/** A Chromium of its own on the browsers' machine, trusting the gateway's certificate. */
async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: host?.chromium,
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${trustedKey}`],
  });
  browsers.push(browser);
  return browser;
}

async function signedIn(user: string): Promise<Page> {
  const page = await signInWithPassword(await launchBrowser(), GATEWAY, user, PASSWORDS[user] as string);
  await expectText(page, 'registration-state', 'registered', 20_000);
  return page;
}

beforeAll(async () => {
  mkdirSync(results, { recursive: true });
  console.log(`stack test: Compose ${composeVersion()} on Docker Engine ${dockerVersion()}`);
  compose(root, env, ['down', '-v', '--remove-orphans']);
  const started = Date.now();
  composeOrThrow(root, env, ['up', '-d']);
  healthySeconds = await whenHealthy(started);
  console.log(`stack test: every service healthy ${healthySeconds.toFixed(1)} s after \`up -d\``);
  const asterisk = composeOrThrow(root, env, [
    'exec',
    '-T',
    'asterisk',
    'asterisk',
    '-rx',
    'core show version',
  ]);
  console.log(`stack test: the PBX is ${asterisk.trim().split(' built ')[0]}`);
  for (const [user, password] of Object.entries(PASSWORDS))
    composeOrThrow(
      root,
      env,
      ['exec', '-T', 'gateway', 'npm', 'run', '--silent', 'user', '--', 'add', user],
      password,
    );
  trustedKey = fingerprints(
    composeOrThrow(root, env, ['exec', '-T', 'gateway', 'cat', '/data/tls/cert.pem']),
  ).spkiSha256;
  const idle = memoryUse();
  console.log(`stack test: idle memory ${idle.totalMiB.toFixed(0)} MiB: ${JSON.stringify(idle.perService)}`);
  // The browsers' machine, on the compose network only (its bridge, ringway0).
  host = await secondMachine({
    tag: 'rwci',
    folder: mkdtempSync(join(tmpdir(), 'ringway-browsers-')),
    address: '172.28.0.200/24',
    link: { bridge: 'ringway0' },
  });
}, 300_000);

afterAll(async () => {
  await Promise.all(browsers.map((browser) => browser.close()));
  host?.remove();
  if (failed || leftovers().containers.length > 0) saveLogs(root, env, join(results, 'stack-logs'));
  compose(root, env, ['down', '-v', '--remove-orphans']);
}, 120_000);

/** Marks the run as failed (so afterAll keeps every container's log), then rethrows. */
async function recorded(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    failed = true;
    throw error;
  }
}

/**
 * How long receivedLevel() listens, and the levels that count as hearing someone or silence.
 * Measured here (RMS, 0–1): the fake microphone's echo or a peer in the conference 0.41–0.57, the
 * 600 prompt 0.19–0.44, silence 0.0001 (an echo of a muted page) to 0.0004 (a conference of
 * muted pages).
 */
const LEVEL_WINDOW_MS = 1500;
const ECHO_HEARD = 0.02;
const ECHO_SILENT = 0.002;

/**
 * The RMS level (0–1) of the audio the page's current call received over the next
 * LEVEL_WINDOW_MS, from getStats() (inbound-rtp totalAudioEnergy over totalSamplesDuration): all
 * of it, where the page's meter samples only now and then (Chromium's fake microphone beeps
 * 20 ms in every 500 ms).
 */
async function receivedLevel(page: Page): Promise<number> {
  return page.evaluate(async (windowMs) => {
    type Current = { peerConnection?: RTCPeerConnection } | undefined;
    const pc = (globalThis as unknown as { ringway: { current(): Current } }).ringway.current()
      ?.peerConnection;
    if (!pc) return 0;
    const read = async () => {
      let energy = 0;
      let seconds = 0;
      (await pc.getStats()).forEach((report) => {
        if (report.type === 'inbound-rtp' && report.kind === 'audio') {
          energy += report.totalAudioEnergy ?? 0;
          seconds += report.totalSamplesDuration ?? 0;
        }
      });
      return { energy, seconds };
    };
    const before = await read();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = await read();
    const seconds = after.seconds - before.seconds;
    return seconds > 0 ? Math.sqrt((after.energy - before.energy) / seconds) : 0;
  }, LEVEL_WINDOW_MS);
}

/** How many times the page's current call lost its connection and came back (Call.reconnects). */
const recoveries = (page: Page) =>
  page.evaluate(
    () =>
      (window as unknown as { ringway: { current(): { reconnects: { tookMs?: number }[] } } }).ringway
        .current()
        .reconnects.filter((reconnect) => reconnect.tookMs !== undefined).length,
  );

describe('docker compose up: the bundled stack', () => {
  it('brings every service up healthy', () => {
    expect(healthySeconds).toBeGreaterThan(0);
  });

  it('building the images left no unnamed image behind (no build stage kept as a dangling image)', () => {
    const before = new Set(readFileSync(join(results, 'images-before-build.txt'), 'utf8').split('\n'));
    expect(unnamedImages().filter((id) => !before.has(id))).toEqual([]);
  });

  it('kamailio, rtpengine, coturn and the gateway run as users of their own, and the shared secret is on no command line', () => {
    const secret = env.AUTH_SECRET as string;
    for (const service of ['kamailio', 'rtpengine', 'coturn', 'gateway']) {
      const processes = processesOf(service);
      // (docker-init, the container's PID 1 with `init: true`, is Docker's, not the service's.)
      const own = processes.filter((process) => !process.args.startsWith('/sbin/docker-init'));
      expect({ service, users: [...new Set(own.map((process) => process.user))] }).toEqual({
        service,
        users: [expect.not.stringMatching(/^(root|0)$/)],
      });
      for (const { args } of processes) expect(args).not.toContain(secret);
      expect(inspectedCommand(service)).not.toContain(secret);
    }
  });

  it('the gateway writes no line per health check, and its lines carry readable timestamps', () => {
    // The witness: Docker ran the health check (a request to /readyz) several times by now.
    expect(healthChecksOf('gateway').filter((check) => check.ExitCode === 0).length).toBeGreaterThan(2);
    const lines = composeOrThrow(root, env, ['logs', '--no-color', '--no-log-prefix', 'gateway'])
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { time: string; msg: string; url?: string });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.url === '/readyz' || /request/.test(line.msg))).toEqual([]);
    for (const line of lines) expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it(
    'alice and bob sign in with passwords from two browsers, see each other online and call, audio both ways',
    () =>
      recorded(async () => {
        const refused = await signInWithPassword(await launchBrowser(), GATEWAY, 'alice', 'not-her-password');
        await expectText(refused, 'action-error', 'Wrong user name or password.');
        alice = await signedIn('alice');
        bob = await signedIn('bob');
        // Bob is in Alice's contacts (the operator's users), his lamp lit by Kamailio's presence.
        await contactLamp(alice, 'bob', 'online');
        await callAndAnswer(alice, bob, 'bob');
        await contactLamp(alice, 'bob', 'on-call');
        expect(await waitForAudio(alice)).toBeGreaterThan(1000);
        expect(await waitForAudio(bob)).toBeGreaterThan(1000);
        await alice.getByTestId('hangup-button').click();
        await expectText(bob, 'call-state', /ended/);
      }),
    120_000,
  );

  it(
    'a browser dials 600 and reaches Asterisk through Kamailio’s dispatcher and rtpengine: its prompt, then a real echo that follows the mute button',
    () =>
      recorded(async () => {
        await alice.getByTestId('dial-input').fill('600');
        await alice.getByTestId('dial-button').click();
        await expectText(alice, 'call-state', 'active', 20_000);
        // Muted from the start: what the page hears now is Asterisk's own (the demo-echotest
        // prompt, about 22 s, transcoded from GSM), not an echo of its microphone.
        await alice.getByTestId('mute-button').click();
        expect(await waitForAudio(alice)).toBeGreaterThan(1000);
        // Then Echo() sends back what it hears: silence while the page is muted, the page's own
        // (fake) microphone once unmuted, silence again when muted again. A tone or a recording
        // would not follow the mute button.
        const levels: string[] = [];
        const level = async (muted: boolean, accept: (rms: number) => boolean) =>
          eventually(
            () => receivedLevel(alice),
            (rms) => {
              levels.push(`${muted ? 'muted' : 'open'} ${rms.toFixed(4)}`);
              return accept(rms);
            },
            () => `the level heard did not follow the mute button: ${levels.join(', ')}`,
            { ms: 30_000, everyMs: 0 },
          );
        const prompt = await level(true, (rms) => rms > ECHO_HEARD);
        const silent = await level(true, (rms) => rms < ECHO_SILENT);
        await alice.getByTestId('mute-button').click();
        const open = await level(false, (rms) => rms > ECHO_HEARD);
        await alice.getByTestId('mute-button').click();
        const muted = await level(true, (rms) => rms < ECHO_SILENT);
        await alice.getByTestId('mute-button').click();
        const reopened = await level(false, (rms) => rms > ECHO_HEARD);
        // On Asterisk's side: the Kamailio trunk's channel, in the echo test's context, in Echo().
        const asterisk = (command: string) =>
          composeOrThrow(root, env, ['exec', '-T', 'asterisk', 'asterisk', '-rx', command]);
        expect(asterisk('core show channels concise')).toMatch(
          /^PJSIP\/kamailio-\w+!from-kamailio!600!\d+!Up!Echo!/m,
        );
        const stats = asterisk('pjsip show channelstats')
          .split('\n')
          .find((line) => /kamailio-\w+/.test(line));
        console.log(
          `stack test: Asterisk's channel stats during the echo: ${stats?.trim().replace(/\s+/g, ' ')}`,
        );
        console.log(
          `stack test: level heard (RMS of the received audio over ${LEVEL_WINDOW_MS} ms): ` +
            `prompt ${prompt.toFixed(4)}, echo muted ${silent.toFixed(4)}, open ${open.toFixed(4)}, ` +
            `muted ${muted.toFixed(4)}, open ${reopened.toFixed(4)}; every window: ${levels.join(', ')}`,
        );
        expect(Math.max(silent, muted)).toBeLessThan(Math.min(open, reopened) / 10);
        await alice.getByTestId('hangup-button').click();
        await expectText(alice, 'call-state', /ended/);
      }),
    120_000,
  );

  it(
    'alice and bob dial 700 and meet in Asterisk’s ConfBridge: each hears the other, and silence when the other is muted',
    () =>
      recorded(async () => {
        const levels: string[] = [];
        const hears = async (listener: Page, name: string, accept: (rms: number) => boolean) =>
          eventually(
            () => receivedLevel(listener),
            (rms) => {
              levels.push(`${name} ${rms.toFixed(4)}`);
              return accept(rms);
            },
            () => `the conference did not carry the other one's voice: ${levels.join(', ')}`,
            { ms: 30_000, everyMs: 0 },
          );
        for (const page of [alice, bob]) {
          await page.getByTestId('dial-input').fill('700');
          await page.getByTestId('dial-button').click();
          await expectText(page, 'call-state', 'active', 20_000);
          // Muted on joining: what each hears is then the conference's own prompts, or silence.
          await page.getByTestId('mute-button').click();
        }
        const asterisk = (command: string) =>
          composeOrThrow(root, env, ['exec', '-T', 'asterisk', 'asterisk', '-rx', command]);
        const members = await eventually(
          async () => asterisk('confbridge list 700'),
          (list) => (list.match(/PJSIP\/kamailio-/g) ?? []).length === 2,
          (list) => `conference 700 does not have both: ${list}`,
        );
        expect(members).toMatch(/PJSIP\/kamailio-/);
        // Both muted: silence each way (once the join prompts are over).
        const quietForBob = await hears(bob, 'bob, both muted', (rms) => rms < ECHO_SILENT);
        const quietForAlice = await hears(alice, 'alice, both muted', (rms) => rms < ECHO_SILENT);
        // Alice speaks: Bob hears her; muted again, he hears silence. And the other way round.
        await alice.getByTestId('mute-button').click();
        const aliceToBob = await hears(bob, 'bob, alice open', (rms) => rms > ECHO_HEARD);
        await alice.getByTestId('mute-button').click();
        const aliceMuted = await hears(bob, 'bob, alice muted', (rms) => rms < ECHO_SILENT);
        await bob.getByTestId('mute-button').click();
        const bobToAlice = await hears(alice, 'alice, bob open', (rms) => rms > ECHO_HEARD);
        await bob.getByTestId('mute-button').click();
        const bobMuted = await hears(alice, 'alice, bob muted', (rms) => rms < ECHO_SILENT);
        console.log(
          `stack test: conference 700, level heard: both muted ${quietForBob.toFixed(4)} (bob) ` +
            `${quietForAlice.toFixed(4)} (alice); alice→bob ${aliceToBob.toFixed(4)}, then muted ` +
            `${aliceMuted.toFixed(4)}; bob→alice ${bobToAlice.toFixed(4)}, then muted ${bobMuted.toFixed(4)}`,
        );
        for (const page of [alice, bob]) {
          await page.getByTestId('hangup-button').click();
          await expectText(page, 'call-state', /ended/);
        }
      }),
    150_000,
  );

  it(
    'a browser dials 6001, whom nobody answers, and leaves a message in Asterisk’s voicemail that holds its microphone',
    () =>
      recorded(async () => {
        const box = '/var/spool/asterisk/voicemail/default/6001';
        const inside = (script: string) =>
          composeOrThrow(root, env, ['exec', '-T', 'asterisk', 'sh', '-c', script]);
        inside(`rm -rf ${box}`);
        await alice.getByTestId('dial-input').fill('6001');
        await alice.getByTestId('dial-button').click();
        // Nobody is registered as 6001 on Asterisk: Dial() fails, VoiceMail() answers, plays the
        // greeting and the tone, then records (into the box's tmp/ folder).
        await expectText(alice, 'call-state', 'active', 20_000);
        const recording = await eventually(
          async () => inside(`ls ${box}/tmp 2>/dev/null || true`).trim(),
          (files) => files !== '',
          () => 'Asterisk did not start recording a message within 30 s',
          { ms: 30_000, everyMs: 250 },
        );
        expect(recording).not.toBe('');
        await alice.waitForTimeout(3000);
        await alice.getByTestId('hangup-button').click();
        await expectText(alice, 'call-state', /ended/);
        const inbox = await eventually(
          async () => inside(`ls ${box}/INBOX 2>/dev/null || true`),
          (files) => /msg0000\.wav/.test(files) && /msg0000\.txt/.test(files),
          (files) => `no message in 6001's INBOX: ${files}`,
        );
        expect(inbox).toMatch(/msg0000\.wav/);
        const wav = join(mkdtempSync(join(tmpdir(), 'ringway-voicemail-')), 'msg0000.wav');
        writeFileSync(wav, Buffer.from(inside(`base64 ${box}/INBOX/msg0000.wav`), 'base64'));
        const peak = wavPeak(wav);
        const seconds = (statSync(wav).size - 44) / 16_000;
        console.log(`stack test: voicemail for 6001: ${seconds.toFixed(1)} s recorded, peak ${peak}`);
        expect(peak).toBeGreaterThan(1000);
        expect(inside('asterisk -rx "voicemail show users for default"')).toMatch(
          /6001\s+Ringway user\s+1\b/,
        );
      }),
    90_000,
  );

  it(
    'a live call survives docker compose restart gateway (two workers) 10 times out of 10, audio both ways after each',
    () =>
      recorded(async () => {
        await callAndAnswer(alice, bob, 'bob');
        await audioGrowsBeyond(alice, 0);
        await audioGrowsBeyond(bob, 0);
        const backMs: number[] = [];
        for (let restart = 1; restart <= 10; restart++) {
          const before = await Promise.all([audioBytesReceived(alice), audioBytesReceived(bob)]);
          const restarted = Date.now();
          composeOrThrow(root, env, ['restart', 'gateway']);
          // Each page lands on whichever worker the port hands it; the dialog's Record-Routes
          // name the workers of before (sibling-workers.ts). The witness that the call went
          // through the restart: one more completed reconnection on each page's call.
          for (const page of [alice, bob])
            await eventually(
              () => recoveries(page),
              (count) => count >= restart,
              (count) => `${count} recoveries after restart ${restart}`,
              { ms: 30_000, everyMs: 100 },
            );
          await expectText(alice, 'call-state', 'active');
          await expectText(bob, 'call-state', 'active');
          await audioGrowsBeyond(alice, before[0] as number);
          await audioGrowsBeyond(bob, before[1] as number);
          backMs.push(Date.now() - restarted);
        }
        console.log(`stack test: the call was back after each gateway restart in ${backMs.join(', ')} ms`);
        await alice.getByTestId('hangup-button').click();
        await expectText(bob, 'call-state', /ended/);
      }),
    400_000,
  );

  it(
    'docker compose restart kamailio: both browsers register again by themselves and call again',
    () =>
      recorded(async () => {
        const restarted = Date.now();
        composeOrThrow(root, env, ['restart', 'kamailio']);
        await whenHealthy(restarted);
        // Kamailio knows nobody now; each browser is known again at its next refresh (≤ 60 s).
        const reachable = await eventually(
          async () => {
            await alice.getByTestId('dial-input').fill('bob');
            await alice.getByTestId('dial-button').click();
            const rang = await bob
              .getByTestId('answer-button')
              .waitFor({ state: 'visible', timeout: 3000 })
              .then(() => true)
              .catch(() => false);
            if (!rang)
              await alice
                .getByTestId('hangup-button')
                .click()
                .catch(() => undefined);
            return rang;
          },
          (rang) => rang,
          () => 'bob was not reachable again within 90 s of the restart',
          { ms: 90_000, everyMs: 1000 },
        );
        expect(reachable).toBe(true);
        console.log(
          `stack test: bob reachable again ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart`,
        );
        await bob.getByTestId('answer-button').click();
        await expectText(alice, 'call-state', 'active');
        expect(await waitForAudio(alice)).toBeGreaterThan(1000);
        expect(await waitForAudio(bob)).toBeGreaterThan(1000);
        await alice.getByTestId('hangup-button').click();
      }),
    180_000,
  );

  it(
    'Redis killed (SIGKILL): Docker starts it again by itself, and a call link made before is still there',
    () =>
      recorded(async () => {
        const created = await alice.evaluate(async (password) => {
          const signIn = await fetch('/api/sign-in', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ user: 'alice', password }),
          });
          const { renewToken } = (await signIn.json()) as { renewToken: string };
          const link = await fetch('/api/sessions', {
            method: 'POST',
            headers: { authorization: `Bearer ${renewToken}` },
          });
          return { status: link.status, id: ((await link.json()) as { id: string }).id };
        }, PASSWORDS.alice as string);
        expect(created.status).toBe(201);
        const restarts = restartCount('redis');
        const killed = Date.now();
        process.kill(hostPidOf('redis', /^redis-server/), 'SIGKILL');
        await eventually(
          async () => restartCount('redis'),
          (count) => count > restarts,
          () => 'Docker did not start Redis again',
          { ms: 30_000, everyMs: 250 },
        );
        await whenHealthy(killed);
        // The gateway's Redis client connects again by itself; until then the API says 503.
        const read = await eventually(
          () => alice.evaluate(async (id) => (await fetch(`/api/sessions/${id}`)).status, created.id),
          (status) => status !== 503,
          () => 'the sessions API stayed unavailable after Redis came back',
          { ms: 30_000, everyMs: 500 },
        );
        expect(read).toBe(200);
        console.log(
          `stack test: Redis back and the link readable ${((Date.now() - killed) / 1000).toFixed(1)} s after SIGKILL`,
        );
      }),
    90_000,
  );

  it('docker compose down leaves no container, network or volume behind', async () => {
    await Promise.all(browsers.splice(0).map((browser) => browser.close()));
    host?.remove();
    host = undefined;
    const started = Date.now();
    composeOrThrow(root, env, ['down', '-v', '--remove-orphans']);
    console.log(`stack test: down took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('refuses the placeholder secret on a public address: `up -d` fails, before Kamailio, coturn or the gateway start, and the check names the field', () => {
    // After `down`: the check takes no address; the services that do not share the secret start.
    const placeholder = { ...env, AUTH_SECRET: '', ADMIN_TOKEN: '', PUBLIC_IP: '192.0.2.7' };
    const up = compose(root, placeholder, ['up', '-d']);
    const logs = compose(root, placeholder, ['logs', '--no-color', '--no-log-prefix', CHECK]);
    const health = containerHealth();
    compose(root, env, ['down', '-v', '--remove-orphans']);
    expect(up.status).not.toBe(0);
    // (Compose v1: `ERROR: for kamailio  Container "…" exited with code 78.`; v2: `service
    // "gateway-config" didn't complete successfully: exit 78`.)
    expect(up.stderr).toMatch(/exited with code 78|didn't complete successfully: exit 78/);
    expect(health.get(CHECK)).toBe('exited 78');
    for (const service of ['kamailio', 'coturn', 'gateway']) expect(health.has(service)).toBe(false);
    expect(logs.stdout.split('\n').filter((line) => line.startsWith('ringway-gateway:'))).toEqual([
      expect.stringMatching(
        /^ringway-gateway: AUTH_SECRET is still the placeholder of .env.example: .* before serving 192.0.2.7$/,
      ),
    ]);
  }, 120_000);
});
