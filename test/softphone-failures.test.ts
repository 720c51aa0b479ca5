import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { SipRequest } from '../packages/gateway/src/sip/message.js';
import { createResponse } from '../packages/gateway/src/sip/responses.js';
import { serializeSipMessage } from '../packages/gateway/src/sip/serializer.js';
import { type RunningGateway, startGateway } from '../packages/gateway/test/support/gateway.js';
import { RawSipClient, sipRequest } from '../packages/gateway/test/support/raw-sip-client.js';
import { launchChromium } from './support/chromium.js';
import { expectText, openSoftphone } from './support/softphone-app.js';

// Issue 12 §5: when the page itself ends a call because it cannot use the other side's SDP, its
// end reason says so (it said "the other side hung up").
let browser: Browser;
let gateway: RunningGateway;

beforeAll(async () => {
  gateway = await startGateway({ SIP_DOMAIN: '127.0.0.1' });
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

/** Plain RTP with no DTLS fingerprint: an answer a WebRTC offer cannot take. */
const PLAIN_RTP_ANSWER = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  'a=sendrecv',
  '',
].join('\r\n');

describe('the softphone page when the other side’s SDP cannot be used', () => {
  it('ends the call and says why, instead of "the other side hung up"', async () => {
    const peer = await RawSipClient.connect(gateway.wsUrl);
    peer.send(
      sipRequest('REGISTER', 'sip:127.0.0.1', {
        from: 'sip:plain@127.0.0.1',
        to: 'sip:plain@127.0.0.1',
        extra: ['Contact: <sip:plain@plain.invalid;transport=ws>'],
      }),
    );
    await peer.response(200);
    const page = await openSoftphone(browser, `http://127.0.0.1:${gateway.port}`, 'ivy');
    await page.getByTestId('dial-input').fill('plain');
    await page.getByTestId('dial-button').click();
    const invite = (await peer.next(
      (m) => m.kind === 'request' && m.method === 'INVITE',
      10_000,
    )) as SipRequest;
    const ok = createResponse(invite, 200, [
      { name: 'Contact', value: '<sip:plain@plain.invalid;transport=ws>' },
      { name: 'Content-Type', value: 'application/sdp' },
    ]);
    peer.send(serializeSipMessage({ ...ok, body: PLAIN_RTP_ANSWER }));
    await peer.next((m) => m.kind === 'request' && m.method === 'BYE', 10_000);
    await expectText(
      page,
      'call-state',
      /^failed: ended here: the other side's media description could not be used \(.+\)/,
    );
    expect(await page.getByTestId('call-state').textContent()).not.toMatch(/other side hung up/);
    peer.close();
    await page.context().close();
  }, 30_000);

  it('an incoming offer it cannot use fails the call with the reason, and no error escapes the page', async () => {
    const page = await openSoftphone(browser, `http://127.0.0.1:${gateway.port}`, 'jay');
    const pageErrors: Error[] = [];
    page.on('pageerror', (error) => pageErrors.push(error));
    const caller = await RawSipClient.connect(gateway.wsUrl);
    caller.send(
      sipRequest('INVITE', 'sip:jay@127.0.0.1', {
        from: 'sip:plain@127.0.0.1',
        extra: ['Contact: <sip:plain@plain.invalid;transport=ws>', 'Content-Type: application/sdp'],
        body: PLAIN_RTP_ANSWER,
      }),
    );
    await page.getByTestId('answer-button').click({ timeout: 10_000 });
    await expectText(page, 'call-state', /^failed: could not answer: .+/);
    // The page's refusal reaches the caller as a final answer (SIP.js sends 488 or 500 itself).
    const refusal = await caller.next((m) => m.kind === 'response' && m.status >= 400, 10_000);
    expect(refusal.kind).toBe('response');
    expect(pageErrors).toEqual([]);
    caller.close();
    await page.context().close();
  }, 30_000);
});
