import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { eventually } from '../../../test/support/eventually.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';

// Issue 11 §6: what a stranger can make the gateway keep open.
const gateways: RunningGateway[] = [];
const sockets: Array<Socket | WebSocket> = [];

async function gatewayWith(env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startGateway(env);
  gateways.push(gateway);
  return gateway;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket instanceof WebSocket ? socket.terminate() : socket.destroy();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

/** A TCP connection that sends nothing; resolves once connected. */
function silentConnection(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString();
  });
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
  return new Promise((resolve) => socket.once('connect', () => resolve({ socket, closed })));
}

/** `promise`, or a rejection saying `what` after `ms`; the timer goes once it has settled, so that jest can exit. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('raw connections', () => {
  it('closes a connection that sends no request in time', async () => {
    const gateway = await gatewayWith({ FIRST_REQUEST_TIMEOUT_MS: '300' });
    const { closed } = await silentConnection(gateway.port);
    await within(closed, 10_000, 'the silent connection was never closed');
    // A connection that does ask is served as usual.
    expect((await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).status).toBe(200);
  });

  it('counts every TCP connection toward the per-address limit, upgraded or not', async () => {
    const gateway = await gatewayWith({ MAX_CONNECTIONS_PER_IP: '3' });
    const held = await Promise.all([1, 2, 3].map(() => silentConnection(gateway.port)));
    const refused = await silentConnection(gateway.port);
    expect(await within(refused.closed, 10_000, 'the fourth connection was kept')).toMatch(/^HTTP\/1.1 503/);
    held[0]?.socket.destroy();
    await held[0]?.closed;
    // The gateway counts the closed one out once it sees the close; ask until it has.
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${gateway.port}/healthz`).catch(() => undefined))?.status,
      (status) => status === 200,
      (status) => `a freed place was never given again (last answer: ${status ?? 'connection refused'})`,
    );
  });
});

describe('WebSocket liveness', () => {
  const open = (gateway: RunningGateway, autoPong: boolean) =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(gateway.wsUrl, ['sip'], { autoPong });
      sockets.push(socket);
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    });

  it('closes a WebSocket that stops answering pings, and keeps one that answers', async () => {
    const gateway = await gatewayWith({ WS_PING_INTERVAL_MS: '200' });
    const silent = await open(gateway, false);
    const alive = await open(gateway, true);
    let pingsToAlive = 0;
    alive.on('ping', () => pingsToAlive++);
    const silentClosed = new Promise((resolve) => silent.once('close', resolve));
    await within(silentClosed, 10_000, 'a WebSocket that never answered pings was kept');
    // The witness that the gateway looked at the answering one too: each ping after the first
    // is sent only once the previous one was found answered.
    await eventually(
      () => pingsToAlive,
      (n) => n >= 4,
      (n) => `only ${n} pings`,
    );
    expect(alive.readyState).toBe(WebSocket.OPEN);
  });

  it('closes a WebSocket that answers pings and sends keep-alives but no SIP message in time, and keeps one that sent SIP', async () => {
    const gateway = await gatewayWith({ FIRST_REQUEST_TIMEOUT_MS: '300', WS_PING_INTERVAL_MS: '100' });
    // Opened first, so that its own deadline has passed by the time the silent one's has.
    const speaking = await RawSipClient.connect(gateway.wsUrl);
    sockets.push(speaking.socket);
    speaking.send(sipRequest('OPTIONS', 'sip:ringway.test'));
    await speaking.response(200);
    const silent = await open(gateway, true);
    let pings = 0;
    silent.on('ping', () => pings++);
    const keepAlive = setInterval(() => silent.send('\r\n\r\n'), 50);
    const closed = new Promise<number>((resolve) => silent.once('close', resolve));
    const code = await within(closed, 4000, 'a WebSocket that never sent SIP was kept').finally(() =>
      clearInterval(keepAlive),
    );
    expect(code).toBe(1008);
    expect(pings).toBeGreaterThan(0);
    speaking.send(sipRequest('OPTIONS', 'sip:ringway.test'));
    await speaking.response(200);
    expect(speaking.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe('a client that does not read', () => {
  it('is disconnected once a megabyte waits for it, instead of the gateway holding it all', async () => {
    const gateway = await gatewayWith({ RATE_MESSAGES_PER_SECOND: '100000', RATE_MESSAGE_BURST: '100000' });
    const reader = await RawSipClient.connect(gateway.wsUrl);
    reader.send(
      sipRequest('REGISTER', 'sip:ringway.test', {
        from: 'sip:slow@ringway.test',
        to: 'sip:slow@ringway.test',
        extra: ['Contact: <sip:slow@slow.invalid;transport=ws>'],
      }),
    );
    await reader.response(200);
    // Stop reading: what the gateway sends now piles up in the kernel, then in the gateway.
    (reader.socket as unknown as { _socket: Socket })._socket.pause();
    const body = 'x'.repeat(60_000);
    const senders = await Promise.all([1, 2, 3, 4].map(() => RawSipClient.connect(gateway.wsUrl)));
    for (const sender of senders) {
      for (let i = 0; i < 100; i++) sender.send(sipRequest('MESSAGE', 'sip:slow@ringway.test', { body }));
    }
    await eventually(
      () => gateway.app.sip.flows.size,
      (open) => open === senders.length,
      (open) => `${open} connections still open; the one that does not read was kept`,
      { ms: 20_000 },
    );
    for (const sender of senders) sender.close();
    reader.socket.terminate();
  }, 30_000);
});
