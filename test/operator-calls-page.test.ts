import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { EMBEDDED_CALL_ARROWS } from '../packages/gateway/test/support/embedded-call-ladder.js';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import { type PcapPacket, type RunningSngrep, readPcap, startSngrep } from './support/sngrep.js';
import { callAndAnswer, openSoftphone, waitForAudio } from './support/softphone-app.js';

// Issue 27: seeing a call. Two Ringway pages call each other through the embedded gateway with
// audio; the operator opens the recent calls in Chromium, sees the ladder, a message, the masked
// secrets, exports a pcap; the WebSocket leg went to sngrep as HEP meanwhile.
const ADMIN_TOKEN = 'operator-calls-admin-token-0123456789';
/** Where CI keeps screenshots (docs/screenshots/operator-calls.png is a copy of this one's). */
const shots = join(fileURLToPath(new URL('..', import.meta.url)), '.ci', 'results', 'screenshots');
let sngrep: RunningSngrep;
let gateway: RunningGateway;
let browser: Browser;
let base: string;
let callId: string;
let hep: PcapPacket[] = [];

beforeAll(async () => {
  sngrep = await startSngrep();
  gateway = await startGateway({ SIP_DOMAIN: '127.0.0.1', ADMIN_TOKEN, HEP_URL: sngrep.url });
  browser = await launchChromium();
  base = `http://127.0.0.1:${gateway.port}`;
  const alice = await openSoftphone(browser, base, 'alice');
  const bob = await openSoftphone(browser, base, 'bob');
  await callAndAnswer(alice, bob, 'bob');
  expect(await waitForAudio(alice)).toBeGreaterThan(1000);
  expect(await waitForAudio(bob)).toBeGreaterThan(1000);
  await alice.getByTestId('hangup-button').click();
  await bob
    .getByTestId('call-state')
    .filter({ hasText: /ended|idle/ })
    .or(bob.getByTestId('dial-input'))
    .first()
    .waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await sngrep?.stop();
});

async function operatorPage(): Promise<Page> {
  // What a person does: the browser asks for the credentials (Basic, the token as password).
  const context = await browser.newContext({
    httpCredentials: { username: 'operator', password: ADMIN_TOKEN },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('[operator] page error', error));
  await page.goto(`${base}/operator/calls`);
  return page;
}

const arrowLabels = (page: Page) =>
  page
    .getByTestId('ladder-arrow')
    .evaluateAll((arrows) =>
      arrows.map(
        (a) => `${a.getAttribute('data-from')}>${a.getAttribute('data-to')} ${a.getAttribute('data-label')}`,
      ),
    );

describe('the operator sees a call between two Ringway pages', () => {
  it('refuses the page and the API without the operator token (401)', async () => {
    for (const path of ['/operator/calls', '/api/operator/calls']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/Basic realm="ringway operator"/);
    }
  });

  it('lists the call and draws its ladder: INVITE, 100, 180, 200, ACK and BYE across the two flows and the gateway', async () => {
    const page = await operatorPage();
    const row = page.getByTestId('call-row').first();
    await row.waitFor();
    callId = (await row.getAttribute('data-call-id')) as string;
    expect(await row.textContent()).toContain('alice@127.0.0.1');
    expect(await row.textContent()).toContain('answered (200)');
    await row.click();
    await page.getByTestId('ladder-arrow').first().waitFor();
    const roles = await page
      .getByTestId('ladder-column')
      .evaluateAll((c) => c.map((g) => g.getAttribute('data-role')));
    expect(roles).toEqual(['client', 'gateway', 'client']);
    const labels = await eventually(
      () => arrowLabels(page),
      (l) => l.some((a) => a.endsWith('BYE')),
      (l) => `arrows: ${l.join(', ')}`,
    );
    for (const expected of EMBEDDED_CALL_ARROWS) expect(labels).toContain(expected);
    expect(await page.getByTestId('call-facts').textContent()).toMatch(/answered after \d+ ms/);

    // A click on an arrow shows its message whole, secrets masked.
    await page.locator('[data-testid="ladder-arrow"][data-label="INVITE"]').nth(1).click();
    const invite = (await page.getByTestId('message-view').textContent()) ?? '';
    expect(invite).toMatch(/^\+\d+\.\d{3} s {2}WS\n\nINVITE sip:\S+ SIP\/2\.0\r?\n/);
    expect(invite).toContain('To: <sip:bob@127.0.0.1>');
    expect(invite).toContain(`Call-ID: ${callId}`);
    expect(invite).toMatch(/Ringway-Call-Token: \*+\r?\n/);
    expect(invite).toMatch(/a=ice-pwd:\*+/);
    mkdirSync(shots, { recursive: true });
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.screenshot({ path: join(shots, 'operator-calls.png'), fullPage: true });
    await page.locator('[data-testid="ladder-arrow"][data-label="200 OK"]').first().click();
    expect(await page.getByTestId('message-view').textContent()).toMatch(
      /^\+\d+\.\d{3} s {2}WS\n\nSIP\/2\.0 200 OK/,
    );
    await page.context().close();
  });

  it('exports the call as a pcap that Wireshark reads', async () => {
    const page = await operatorPage();
    await page.goto(`${base}/operator/calls#${encodeURIComponent(callId)}`);
    await page.getByTestId('ladder-arrow').first().waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-pcap').click(),
    ]);
    const file = (await download.path()) as string;
    expect(download.suggestedFilename()).toMatch(/^call-.*\.pcap$/);
    const packets = readPcap(readFileSync(file));
    expect(packets.length).toBeGreaterThanOrEqual(11);
    expect(packets[0]?.payload).toMatch(/^INVITE sip:bob@127\.0\.0\.1/);
    expect(packets[0]?.dst).toBe(`127.0.0.1:${gateway.port}`);
    // Wireshark's own reader (Debian's tshark, installed with the tests' packages): read as SIP.
    const methods = execFileSync(
      'tshark',
      [
        '-r',
        file,
        '-d',
        `tcp.port==${gateway.port},sip`,
        '-Y',
        'sip',
        '-T',
        'fields',
        '-e',
        'sip.CSeq.method',
      ],
      { encoding: 'utf8' },
    );
    expect(methods.split('\n').filter(Boolean)).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'BYE']));
    await page.context().close();
  });

  it("sent the call's WebSocket leg to sngrep as HEP, each message with the flow's addresses", async () => {
    hep = await sngrep.stop();
    const ofCall = hep.filter((p) => p.payload.includes(`Call-ID: ${callId}`));
    const lines = ofCall.map((p) => `${p.src}>${p.dst} ${p.payload.split('\r\n')[0]}`);
    const gatewayAt = `127.0.0.1:${gateway.port}`;
    // The caller's INVITE into the gateway, the gateway's out to the callee, both BYEs.
    expect(lines.filter((l) => l.includes(`>${gatewayAt} INVITE sip:bob@`))).toHaveLength(1);
    expect(
      lines.filter((l) => l.startsWith(`${gatewayAt}>`) && l.includes(' INVITE sip:')).length,
    ).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => l.endsWith('SIP/2.0') && l.includes(' BYE '))).toHaveLength(2);
    expect(lines.some((l) => l.includes('SIP/2.0 180 Ringing'))).toBe(true);
    expect(lines.some((l) => l.includes('SIP/2.0 200 OK'))).toBe(true);
    expect(ofCall.every((p) => p.src.startsWith('127.0.0.1:') && p.dst.startsWith('127.0.0.1:'))).toBe(true);
  });
});
