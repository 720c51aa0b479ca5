import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { type RunningGateway, startUpstreamGateway } from '../packages/gateway/test/support/gateway.js';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { passwordOf, usersFileWith } from './support/page-stack.js';
import { type RunningSngrep, startSngrep } from './support/sngrep.js';
import { callAndAnswer, registeredWithPassword, waitForAudio } from './support/softphone-app.js';

// Issue 27 in upstream mode: the ladder of a call relayed through Kamailio shows the upstream leg
// too, and Homer's view (sngrep here) gets the gateway's WebSocket leg next to Kamailio's own
// legs (siptrace, -A WITH_HEP), both sent to the one HEP_URL.
const SECRET = 'operator-calls-kamailio-secret-0123456789';
const ADMIN_TOKEN = 'operator-calls-kamailio-admin-0123456789';
let sngrep: RunningSngrep;
let kamailio: RunningKamailio;
let gateway: RunningGateway;
let browser: Browser;
let callId: string;

interface Ladder {
  outcome: string;
  ladder: {
    columns: Array<{ role: string; addresses: string[] }>;
    arrows: Array<{ label: string; from: number; to: number; text: string }>;
  };
}

beforeAll(async () => {
  sngrep = await startSngrep();
  kamailio = await startKamailio({ secret: SECRET, sipDomain: 'ringway.test', hep: sngrep.address });
  gateway = await startUpstreamGateway(kamailio.udp, {
    AUTH_SECRET: SECRET,
    USERS_FILE: usersFileWith(['alice', 'bob']),
    ADMIN_TOKEN,
    HEP_URL: sngrep.url,
  });
  browser = await launchChromium();
  const base = `http://127.0.0.1:${gateway.port}`;
  const alice = await registeredWithPassword(browser, base, 'alice', passwordOf('alice'));
  const bob = await registeredWithPassword(browser, base, 'bob', passwordOf('bob'));
  await callAndAnswer(alice, bob, 'bob');
  expect(await waitForAudio(alice)).toBeGreaterThan(1000);
  expect(await waitForAudio(bob)).toBeGreaterThan(1000);
  await alice.getByTestId('hangup-button').click();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await kamailio?.stop();
  await sngrep?.stop();
});

const operator = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('the ladder of a call relayed through Kamailio', () => {
  it('shows the browser flows, the gateway and the upstream, the INVITE going up and coming back down', async () => {
    const list = await gateway.app.inject({ url: '/api/operator/calls', headers: operator });
    const calls = (list.json() as { calls: Array<{ callId: string; outcome: string; to: string }> }).calls;
    expect(calls).toHaveLength(1);
    callId = (calls[0] as { callId: string }).callId;
    expect(calls[0]).toMatchObject({ outcome: 'answered', to: 'bob@ringway.test' });
    const call = await eventually(
      async () =>
        (
          await gateway.app.inject({
            url: `/api/operator/calls/${encodeURIComponent(callId)}`,
            headers: operator,
          })
        ).json() as Ladder,
      (c) => c.ladder.arrows.filter((a) => a.label === 'BYE').length >= 4,
      (c) => `arrows: ${c.ladder.arrows.map((a) => a.label).join(', ')}`,
    );
    const { columns, arrows } = call.ladder;
    expect(columns.map((c) => c.role)).toEqual(['client', 'gateway', 'upstream', 'client']);
    expect(columns[2]?.addresses).toEqual([kamailio.udp]);
    const labels = arrows.map((a) => `${a.from}>${a.to} ${a.label}`);
    // Up (caller → gateway → Kamailio), Kamailio's challenge, and down (Kamailio → gateway → callee).
    for (const expected of [
      '0>1 INVITE',
      '1>2 INVITE',
      '2>1 407 Proxy Authentication Required',
      '2>1 INVITE',
      '1>3 INVITE',
      '3>1 180 Ringing',
      '1>2 180 Ringing',
      '2>1 180 Ringing',
      '1>0 180 Ringing',
      '3>1 200 OK',
      '1>0 200 OK',
      '0>1 ACK',
      '1>2 ACK',
      '2>1 ACK',
      '1>3 ACK',
      '0>1 BYE',
      '1>2 BYE',
      '2>1 BYE',
      '1>3 BYE',
    ])
      expect(labels).toContain(expected);
    // The credentials answering the challenge, masked on both legs.
    const answered = arrows.filter((a) => a.label === 'INVITE' && a.text.includes('Proxy-Authorization:'));
    expect(answered.length).toBeGreaterThanOrEqual(2);
    for (const a of answered) {
      expect(a.text).toMatch(/response="\*+"/);
      expect(a.text).toMatch(/nonce="\*+"/);
    }
  });

  it("gives sngrep the gateway's WebSocket leg and Kamailio's legs of the call, by HEP to one address", async () => {
    const packets = (await sngrep.stop()).filter((p) => p.payload.includes(`Call-ID: ${callId}`));
    const gatewayWs = `127.0.0.1:${gateway.port}`;
    const wsLeg = packets.filter((p) => p.src === gatewayWs || p.dst === gatewayWs);
    const kamailioLeg = packets.filter((p) => p.src === kamailio.udp || p.dst === kamailio.udp);
    const firstLines = (list: typeof packets) => list.map((p) => p.payload.split('\r\n')[0] as string);
    expect(firstLines(wsLeg)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^INVITE /),
        'SIP/2.0 200 OK',
        expect.stringMatching(/^BYE /),
      ]),
    );
    expect(firstLines(kamailioLeg)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^INVITE /),
        'SIP/2.0 407 Proxy Authentication Required',
        'SIP/2.0 200 OK',
        expect.stringMatching(/^BYE /),
      ]),
    );
    // The gateway sent only its WebSocket leg: the UDP leg to Kamailio is Kamailio's to trace.
    expect(wsLeg.some((p) => p.src === kamailio.udp || p.dst === kamailio.udp)).toBe(false);
  });
});
