import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import JsSIP from 'jssip';
import type { UA } from 'jssip/lib/UA.js';
import WebSocket from 'ws';
import { type RunningGateway, startGateway } from './support/gateway.js';

// JsSIP's WebSocketInterface uses the global WebSocket, which Node 20 lacks.
(globalThis as unknown as { WebSocket: unknown }).WebSocket ??= WebSocket;

let gateway: RunningGateway;
const started: UA[] = [];

function jssipPhone(user: string, register = true): Promise<UA> {
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(gateway.wsUrl)],
    uri: `sip:${user}@ringway.test`,
    register,
    session_timers: false,
  });
  started.push(ua);
  return new Promise((resolve, reject) => {
    if (register) {
      ua.on('registered', () => resolve(ua));
      ua.on('registrationFailed', (e) => reject(new Error(`JsSIP registration failed: ${e.cause}`)));
    } else ua.on('connected', () => resolve(ua));
    ua.start();
  });
}

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  await Promise.all(
    started.map(
      (ua) =>
        new Promise((resolve) => {
          ua.on('disconnected', resolve);
          ua.stop();
        }),
    ),
  );
  await gateway.close();
});

describe('JsSIP user agents through the gateway', () => {
  it('registers and shows in /api/registrations', async () => {
    await jssipPhone('erin');
    const res = await gateway.app.inject({ url: '/api/registrations' });
    expect(res.json().registrations.map((r: { aor: string }) => r.aor)).toContain('sip:erin@ringway.test');
  });

  it('sends a MESSAGE from JsSIP to JsSIP', async () => {
    const frank = await jssipPhone('frank');
    const grace = await jssipPhone('grace');
    const received = new Promise<string>((resolve) => {
      grace.on('newMessage', (e: { originator: string; request: { body: string } }) => {
        if (e.originator === 'remote') resolve(e.request.body);
      });
    });
    const succeeded = new Promise<void>((resolve, reject) => {
      frank.sendMessage('sip:grace@ringway.test', 'hi grace', {
        eventHandlers: {
          succeeded: () => resolve(),
          failed: (e) => reject(new Error(`MESSAGE failed: ${e.cause}`)),
        },
      });
    });
    await succeeded;
    expect(await received).toBe('hi grace');
  });

  it('gets 200 to an OPTIONS sent to another JsSIP phone', async () => {
    await jssipPhone('ivan');
    const heidi = (await jssipPhone('heidi', false)) as UA & {
      sendOptions(target: string, body: undefined, options: object): void;
    };
    type Outcome = { response?: { status_code: number } };
    const answer = await new Promise<number>((resolve) => {
      heidi.sendOptions('sip:ivan@ringway.test', undefined, {
        eventHandlers: {
          succeeded: (e: Outcome) => resolve(e.response?.status_code ?? 0),
          failed: (e: Outcome) => resolve(e.response?.status_code ?? 0),
        },
      });
    });
    expect(answer).toBe(200);
  });
});
