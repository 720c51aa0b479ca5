import { afterEach, describe, expect, it } from '@jest/globals';
import { eventually } from '../../../test/support/eventually.js';
import { header, type SipRequest } from '../src/sip/message.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { loopHash } from '../src/sip/proxy/branch-id.js';
import { metricLines, type RunningGateway, startGateway } from './support/gateway.js';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';

const gateways: RunningGateway[] = [];
const clients: RawSipClient[] = [];

async function gatewayWith(env: Record<string, string> = {}): Promise<RunningGateway> {
  const gateway = await startGateway(env);
  gateways.push(gateway);
  return gateway;
}

async function client(gateway: RunningGateway, protocols?: string[], headers?: Record<string, string>) {
  const c = await RawSipClient.connect(gateway.wsUrl, protocols, headers);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

function register(user: string, contact: string, extra: string[] = []): string {
  return sipRequest('REGISTER', 'sip:ringway.test', {
    from: `sip:${user}@ringway.test`,
    to: `sip:${user}@ringway.test`,
    extra: [`Contact: ${contact}`, ...extra],
  });
}

describe('the SIP WebSocket edge', () => {
  it('refuses a handshake without the sip subprotocol', async () => {
    const gateway = await gatewayWith();
    await expect(RawSipClient.connect(gateway.wsUrl, ['chat'])).rejects.toThrow('handshake refused: 400');
  });

  it('refuses an Origin that is not allowed and accepts a loopback one', async () => {
    const gateway = await gatewayWith();
    await expect(client(gateway, ['sip'], { Origin: 'https://evil.example' })).rejects.toThrow(
      'handshake refused: 403',
    );
    await expect(
      client(gateway, ['sip'], { Origin: `http://127.0.0.1:${gateway.port}` }),
    ).resolves.toBeDefined();
  });

  it('accepts its own page from any address it is reached at, where credentials are required', async () => {
    const reachedAt = { Host: '192.0.2.9:8080' };
    const secured = await gatewayWith({ AUTH_SECRET: 'origin-test-secret-0123' });
    await expect(
      client(secured, ['sip'], { ...reachedAt, Origin: 'http://192.0.2.9:8080' }),
    ).resolves.toBeDefined();
    await expect(
      client(secured, ['sip'], { ...reachedAt, Origin: 'http://evil.example:8080' }),
    ).rejects.toThrow('handshake refused: 403');
    // The pages of the deployment's other gateways (WS_SERVERS), whose phones fail over here.
    const deployment = await gatewayWith({
      AUTH_SECRET: 'origin-test-secret-0123',
      WS_SERVERS: 'wss://gw1.example.com/sip,ws://192.0.2.7:8080/sip',
    });
    for (const origin of ['https://gw1.example.com', 'http://192.0.2.7:8080'])
      await expect(client(deployment, ['sip'], { ...reachedAt, Origin: origin })).resolves.toBeDefined();
    await expect(
      client(deployment, ['sip'], { ...reachedAt, Origin: 'http://gw1.example.com' }),
    ).rejects.toThrow('handshake refused: 403');
    // Anonymous development mode: loopback pages only (a rebound DNS name is "same-origin" too).
    const anonymous = await gatewayWith();
    await expect(
      client(anonymous, ['sip'], { ...reachedAt, Origin: 'http://192.0.2.9:8080' }),
    ).rejects.toThrow('handshake refused: 403');
  });

  it('answers a CRLFCRLF keep-alive with CRLF (RFC 5626 §4.4.1)', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    c.send('\r\n\r\n');
    await eventually(
      () => c.rawFrames,
      (frames) => frames.length > 0,
      () => 'no pong',
    );
    expect(c.rawFrames).toEqual(['\r\n']);
  });

  it('answers a WebSocket ping with a pong', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    const pong = new Promise<string>((resolve) => c.socket.once('pong', (data) => resolve(data.toString())));
    c.socket.ping('are you there');
    expect(await pong).toBe('are you there');
  });

  it('closes with 1009 when a frame exceeds the maximum message size', async () => {
    const gateway = await gatewayWith({ MAX_MESSAGE_BYTES: '2048' });
    const c = await client(gateway);
    c.send(sipRequest('MESSAGE', 'sip:bob@ringway.test', { body: 'x'.repeat(4096) }));
    expect((await c.closed).code).toBe(1009);
  });

  it('answers a malformed request with 400 and a Warning, then keeps serving the connection', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    c.send(sipRequest('OPTIONS', 'sip:ringway.test').replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'));
    const bad = await c.response(400);
    expect(header(bad, 'Warning')).toMatch(/^399 ringway ".*does not match OPTIONS"$/);
    c.send('this is not SIP at all\r\n\r\n');
    c.send(sipRequest('OPTIONS', 'sip:ringway.test'));
    await c.response(200);
    const metrics = await gateway.app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/ringway_sip_parse_errors_total 2/);
  });

  it('reads a binary frame as the bytes that came: a body that is not UTF-8 still matches its Content-Length', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    const body = Buffer.from([0x76, 0x3d, 0x30, 0xff, 0xfe, 0x0d, 0x0a]);
    const head = sipRequest('OPTIONS', 'sip:ringway.test', {
      extra: ['Content-Type: application/octet-stream'],
    }).replace('Content-Length: 0', `Content-Length: ${body.length}`);
    c.socket.send(Buffer.concat([Buffer.from(head), body]), { binary: true });
    await c.response(200);
    // The same bytes in a text frame are not UTF-8: ws closes the connection (1007, RFC 6455 §8.1).
    const text = await client(gateway);
    text.socket.send(Buffer.concat([Buffer.from(head), body]), { binary: false });
    expect((await text.closed).code).toBe(1007);
  });

  it('answers 483 when Max-Forwards is exhausted', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    c.send(sipRequest('INVITE', 'sip:bob@ringway.test').replace('Max-Forwards: 70', 'Max-Forwards: 0'));
    await c.response(483);
  });

  it('answers 482 to a request that comes back with our own Via and loop hash', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    const text = sipRequest('MESSAGE', 'sip:bob@ringway.test');
    const hash = loopHash(parseSipMessage(text) as SipRequest);
    const looped = text.replace(
      'Max-Forwards',
      `Via: SIP/2.0/WS 127.0.0.1:${gateway.port};branch=z9hG4bK${hash}.1\r\nMax-Forwards`,
    );
    c.send(looped);
    await c.response(482);
  });

  it('is not an open relay: a request for another domain gets 403', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    c.send(sipRequest('INVITE', 'sip:bob@elsewhere.example'));
    const refused = await c.response(403);
    expect(header(refused, 'Warning')).toMatch(/not an open relay/);
  });

  it('answers 408 when the callee never answers', async () => {
    const gateway = await gatewayWith({ TRANSACTION_TIMEOUT_MS: '300' });
    const callee = await client(gateway);
    callee.send(register('bob', '<sip:bob@callee.invalid;transport=ws>'));
    await callee.response(200);
    const caller = await client(gateway);
    caller.send(sipRequest('INVITE', 'sip:bob@ringway.test'));
    await caller.response(100);
    await callee.next((m) => m.kind === 'request' && m.method === 'INVITE');
    await caller.response(408, 2000);
  });

  it('answers 503 with Retry-After past the message rate', async () => {
    const gateway = await gatewayWith({ RATE_MESSAGES_PER_SECOND: '1', RATE_MESSAGE_BURST: '2' });
    const c = await client(gateway);
    for (let i = 0; i < 3; i++) c.send(sipRequest('OPTIONS', 'sip:ringway.test'));
    const limited = await c.response(503);
    expect(header(limited, 'Retry-After')).toBe('1');
  });

  it('refuses connections past the per-address limit with 503', async () => {
    const gateway = await gatewayWith({ MAX_CONNECTIONS_PER_IP: '1' });
    await client(gateway);
    await expect(client(gateway)).rejects.toThrow('handshake refused: 503');
  });

  it('refuses the subprotocol "SIP" in capitals: names are case-sensitive and the 101 could not name it', async () => {
    const gateway = await gatewayWith();
    await expect(RawSipClient.connect(gateway.wsUrl, ['SIP'])).rejects.toThrow('handshake refused: 400');
  });

  it('while draining for shutdown answers a new INVITE with 503 and Retry-After', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    gateway.app.sip.proxy.drain();
    c.send(sipRequest('INVITE', 'sip:bob@ringway.test'));
    expect(header(await c.response(503), 'Retry-After')).toBe('5');
  });

  it('on close refuses new work and tells clients to go away with 1001', async () => {
    const gateway = await startGateway();
    const c = await client(gateway);
    await gateway.close();
    expect((await c.closed).code).toBe(1001);
  });
});

describe('the registrar', () => {
  it('answers 423 with Min-Expires to a too-short registration', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    c.send(register('alice', '<sip:alice@a.invalid;transport=ws>', ['Expires: 5']));
    const brief = await c.response(423);
    expect(header(brief, 'Min-Expires')).toBe('60');
  });

  it('keeps several contacts of one address, lists them, and removes all with *', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    c.send(
      register('alice', '<sip:alice@a.invalid;transport=ws>;expires=120, <sip:alice@b.invalid;transport=ws>'),
    );
    const ok = await c.response(200);
    expect(ok.headers.filter((h) => h.name === 'Contact').map((h) => h.value)).toEqual([
      '<sip:alice@a.invalid;transport=ws>;expires=120',
      '<sip:alice@b.invalid;transport=ws>;expires=600',
    ]);
    c.send(register('alice', '*', ['Expires: 0']));
    const cleared = await c.response(200);
    expect(cleared.headers.some((h) => h.name === 'Contact')).toBe(false);
  });

  it('lets a binding expire', async () => {
    const gateway = await gatewayWith({ REGISTER_MIN_EXPIRES: '1', REGISTER_DEFAULT_EXPIRES: '1' });
    const c = await client(gateway);
    c.send(register('alice', '<sip:alice@a.invalid;transport=ws>'));
    await c.response(200);
    expect(gateway.app.sip.location.lookup('sip:alice@ringway.test')).toHaveLength(1);
    await eventually(
      () => gateway.app.sip.location.lookup('sip:alice@ringway.test'),
      (bindings) => bindings.length === 0,
      () => 'the binding never expired',
    );
  });

  it('refuses to register an address of another domain', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway);
    c.send(
      sipRequest('REGISTER', 'sip:ringway.test', {
        to: 'sip:alice@elsewhere.example',
        extra: ['Contact: <sip:alice@a.invalid>'],
      }),
    );
    await c.response(403);
  });
});

describe('health and metrics', () => {
  it('reports health, readiness and Prometheus metrics', async () => {
    const gateway = await gatewayWith();
    expect((await gateway.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await gateway.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    const metrics = (await gateway.app.inject({ url: '/metrics' })).body;
    for (const name of [
      'ringway_ws_connections',
      'ringway_registrar_bindings',
      'ringway_calls_total',
      'ringway_sip_handling_seconds',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('counts closed connections by the close code their client sent, without a frame as 1006', async () => {
    const gateway = await gatewayWith();
    const closes = () => metricLines(gateway, 'ringway_ws_closes_total');
    const leaving = await client(gateway);
    const lost = await client(gateway);
    const odd = await client(gateway);
    const ringwayPage = await client(gateway);
    leaving.socket.close(1001, 'going away');
    lost.socket.terminate();
    odd.socket.close(4321);
    ringwayPage.socket.close(4001, 'page closed');
    await eventually(
      closes,
      (lines) => lines.length === 4,
      (lines) => `closes counted: ${lines.join('; ')}`,
    );
    expect(await closes()).toEqual(
      expect.arrayContaining([
        'ringway_ws_closes_total{code="1001"} 1',
        'ringway_ws_closes_total{code="1006"} 1',
        'ringway_ws_closes_total{code="4001"} 1',
        'ringway_ws_closes_total{code="other"} 1',
      ]),
    );
  });
});
