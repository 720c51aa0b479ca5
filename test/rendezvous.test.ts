import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { expectText, waitForAudio } from './support/softphone-app.js';

let browser: Browser;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(gateways.map((g) => g.close()));
});

async function page(url: string): Promise<Page> {
  const opened = await (await browser.newContext()).newPage();
  opened.on('pageerror', (error) => console.error('page error', error));
  await opened.goto(url);
  return opened;
}

async function gateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const started = await startGateway({ SIP_DOMAIN: '127.0.0.1', ...env });
  gateways.push(started);
  return started;
}

describe('a call link between two people without accounts', () => {
  it('the creator shares a link, the joiner opens it, the call starts by itself and media flows both ways', async () => {
    // Credentials on (nobody registers without them), and links for anyone, as an operator may choose.
    const gw = await gateway({
      AUTH_SECRET: 'rendezvous-e2e-secret-0123456789',
      ALLOW_ANONYMOUS: 'false',
      CALL_LINKS: 'anyone',
    });
    const creator = await page(`http://127.0.0.1:${gw.port}/`);
    await creator.getByTestId('start-link-button').click();
    await expectText(creator, 'session-state', 'waiting');
    const joinUrl = await creator.getByTestId('join-url').inputValue();
    expect(joinUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${gw.port}/\\?join=[a-z0-9]{10}$`));
    const joiner = await page(joinUrl);
    for (const p of [creator, joiner]) {
      await expectText(p, 'session-state', 'connected');
      await expectText(p, 'call-state', 'active');
    }
    expect(await waitForAudio(creator)).toBeGreaterThan(1000);
    expect(await waitForAudio(joiner)).toBeGreaterThan(1000);
    await joiner.getByTestId('hangup-button').click();
    await expectText(creator, 'session-state', 'ended');
    await expectText(creator, 'session-reason', 'hung up');
  }, 60_000);

  it('a session nobody joins expires, and the creator’s page says so', async () => {
    const gw = await gateway({ SESSION_JOIN_SECONDS: '1' });
    const creator = await page(`http://127.0.0.1:${gw.port}/`);
    await creator.getByTestId('start-link-button').click();
    await expectText(creator, 'session-state', 'expired', 5000);
    await expectText(creator, 'session-reason', 'nobody joined in time');
    const late = await page(await creator.getByTestId('join-url').inputValue());
    await expectText(late, 'session-state', 'cannot join (410)');
  }, 60_000);
});
