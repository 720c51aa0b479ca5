import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { generate } from 'selfsigned';
import { eventually } from '../../../test/support/eventually.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { createUpstreamTransport } from '../src/sip/upstream/upstream-transport.js';
import { serverCertificateExtensions } from '../src/tls/self-signed-certificate.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { freeTcpPort } from './support/loopback-ports.mjs';
import { RawSipClient, sipRequest } from './support/raw-sip-client.js';
import { type Pem, serverCertificate, testAuthority } from './support/test-certificates.js';

// Issue 14: HTTPS and wss:// on the gateway's port, a self-signed certificate for a first start
// beyond loopback, renewal without dropping anyone, and TLS toward the upstream that fails closed.
// HOST is the test namespace's address beyond loopback (scripts/in-loopback-namespace.sh).
const HOST = '192.0.2.1';
const SECRET = 'tls-test-secret-0123456789';
const gateways: RunningGateway[] = [];
const clients: RawSipClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

const folder = () => mkdtempSync(join(tmpdir(), 'ringway-tls-'));

async function gatewayAt(env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startGateway({ HOST, AUTH_SECRET: SECRET, ...env });
  gateways.push(gateway);
  return gateway;
}

/** The certificate a new TLS connection to HOST:port is shown (not verified: the test compares it). */
function presented(port: number, options: { maxVersion?: 'TLSv1.1'; ciphers?: string } = {}) {
  return new Promise<X509Certificate>((resolve, reject) => {
    const socket = connectTls({ host: HOST, port, rejectUnauthorized: false, ...options }, () => {
      const raw = socket.getPeerX509Certificate();
      socket.destroy();
      if (raw) resolve(raw);
      else reject(new Error('no certificate'));
    });
    socket.once('error', reject);
  });
}

/** The suite a TLS handshake with HOST:port settled on, offering only `ciphers`; rejects when it fails. */
function negotiated(port: number, ciphers: string, maxVersion?: 'TLSv1.2'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: HOST, port, rejectUnauthorized: false, ciphers, maxVersion }, () => {
      const { name } = socket.getCipher();
      socket.destroy();
      resolve(name);
    });
    socket.once('error', reject);
  });
}

function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).once('error', reject);
  });
}

async function wssClient(port: number, ca: string): Promise<RawSipClient> {
  const c = await RawSipClient.connect(`wss://${HOST}:${port}/sip`, ['sip'], {}, { ca });
  clients.push(c);
  return c;
}

/** Any answer to an OPTIONS proves the WebSocket carries SIP. */
async function answers(c: RawSipClient): Promise<number> {
  c.send(sipRequest('OPTIONS', `sip:${HOST}`, { from: 'sip:alice@ringway.test', to: `sip:${HOST}` }));
  const response = await c.next((m) => m.kind === 'response');
  return response.kind === 'response' ? response.status : 0;
}

function writePair(dir: string, pem: Pem): { TLS_CERT_FILE: string; TLS_KEY_FILE: string } {
  writeFileSync(join(dir, 'cert.pem'), pem.cert);
  writeFileSync(join(dir, 'key.pem'), pem.key);
  return { TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'key.pem') };
}

describe('HTTPS and wss:// on the gateway', () => {
  it('beyond loopback without certificate files: a self-signed certificate for its names, kept and reused', async () => {
    const dir = folder();
    const env = { PUBLIC_HOST: '203.0.113.9', SIP_DOMAIN: 'ringway.test', TLS_SELF_SIGNED_DIR: dir };
    const first = await gatewayAt(env);
    const cert = new X509Certificate(readFileSync(join(dir, 'cert.pem')));
    const shown = await presented(first.port);
    expect(shown.fingerprint256).toBe(cert.fingerprint256);
    expect([cert.checkIP(HOST), cert.checkIP('203.0.113.9'), cert.checkHost('ringway.test')]).toEqual([
      HOST,
      '203.0.113.9',
      'ringway.test',
    ]);
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
    // Verified against that certificate: the page over HTTPS, and SIP over wss://.
    const ca = cert.toString();
    expect(await httpsStatus(`https://${HOST}:${first.port}/healthz`, ca)).toBe(200);
    expect(await answers(await wssClient(first.port, ca))).toBeGreaterThanOrEqual(200);
    await gateways.pop()?.close();

    const again = await gatewayAt(env);
    expect((await presented(again.port)).fingerprint256).toBe(cert.fingerprint256);
    await gateways.pop()?.close();
    // A name it does not carry yet: a new certificate.
    const renamed = await gatewayAt({ ...env, PUBLIC_HOST: '203.0.113.10' });
    const remade = await presented(renamed.port);
    expect(remade.fingerprint256).not.toBe(cert.fingerprint256);
    expect(remade.checkIP('203.0.113.10')).toBe('203.0.113.10');
  }, 30_000);

  it('stays plain HTTP on loopback, and with TLS=off', async () => {
    const loopback = await startGateway({ AUTH_SECRET: SECRET });
    gateways.push(loopback);
    expect(loopback.app.initialConfig.https).toBeFalsy();
    const off = await gatewayAt({ TLS: 'off' });
    const status = await new Promise<number>((resolve, reject) =>
      httpGet(`http://${HOST}:${off.port}/healthz`, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).once('error', reject),
    );
    expect(status).toBe(200);
  });

  it('speaks TLS 1.2 and 1.3 only', async () => {
    const gateway = await gatewayAt({ TLS_SELF_SIGNED_DIR: folder() });
    await expect(presented(gateway.port)).resolves.toBeDefined();
    // The client offers TLS 1.1 at most, and would accept weak settings: the server refuses.
    await expect(
      presented(gateway.port, { maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    ).rejects.toThrow();
  });

  it('over TLS 1.2 takes only forward-secret AEAD suites, with an RSA certificate as with an ECDSA one', async () => {
    // An RSA certificate, so that RSA key exchange and ECDHE-RSA suites could be chosen at all.
    const rsa = await generate([{ name: 'commonName', value: HOST }], {
      keyType: 'rsa',
      keySize: 2048,
      algorithm: 'sha256',
      extensions: serverCertificateExtensions([HOST]),
    });
    const withRsa = await gatewayAt(writePair(folder(), { cert: rsa.cert, key: rsa.private }));
    // The client would accept anything (security level 0): whatever is refused, the server refused.
    const over12 = (port: number, suite: string) => negotiated(port, `${suite}@SECLEVEL=0`, 'TLSv1.2');
    for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA256'])
      await expect(over12(withRsa.port, weak)).rejects.toThrow(/handshake failure|no shared cipher/);
    for (const good of [
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ])
      await expect(over12(withRsa.port, good)).resolves.toBe(good);

    const withEcdsa = await gatewayAt({ TLS_SELF_SIGNED_DIR: folder() });
    await expect(over12(withEcdsa.port, 'ECDHE-ECDSA-AES128-SHA')).rejects.toThrow(/handshake failure/);
    await expect(over12(withEcdsa.port, 'ECDHE-ECDSA-AES128-GCM-SHA256')).resolves.toBe(
      'ECDHE-ECDSA-AES128-GCM-SHA256',
    );
    // TLS 1.3 as Node has it.
    await expect(negotiated(withEcdsa.port, 'DEFAULT')).resolves.toMatch(/^TLS_(AES|CHACHA20)/);
  });

  it('serves a renewed certificate to new connections while an open WebSocket goes on; a broken one is refused', async () => {
    const authority = await testAuthority();
    const dir = folder();
    const files = writePair(dir, await serverCertificate([HOST], authority));
    const gateway = await gatewayAt(files);
    const before = (await presented(gateway.port)).fingerprint256;
    const open = await wssClient(gateway.port, authority.cert);
    expect(await answers(open)).toBeGreaterThanOrEqual(200);

    writePair(dir, await serverCertificate([HOST], authority));
    const renewed = new X509Certificate(readFileSync(files.TLS_CERT_FILE)).fingerprint256;
    expect(renewed).not.toBe(before);
    await eventually(
      async () => (await presented(gateway.port)).fingerprint256,
      (shown) => shown === renewed,
      (shown) => `new connections still get ${shown}`,
    );
    expect(await answers(open)).toBeGreaterThanOrEqual(200);
    expect(await answers(await wssClient(gateway.port, authority.cert))).toBeGreaterThanOrEqual(200);

    // A key that is not the certificate's: logged, and the renewed pair stays in service. The
    // warning is the witness that the changed files were read; only then is the old one shown.
    const warn = jest.spyOn(gateway.app.log, 'warn');
    writeFileSync(files.TLS_KEY_FILE, (await serverCertificate([HOST], authority)).key);
    await eventually(
      () => warn.mock.calls.map((call) => String(call.at(-1))),
      (messages) => messages.some((m) => /TLS certificate files changed but cannot be used/.test(m)),
      (messages) => `the changed key file was never read; warnings: ${JSON.stringify(messages)}`,
    );
    expect((await presented(gateway.port)).fingerprint256).toBe(renewed);
  }, 30_000);

  it('a WebSocket over TLS is not cut by the first-request timer', async () => {
    const authority = await testAuthority();
    const gateway = await gatewayAt({
      ...writePair(folder(), await serverCertificate([HOST], authority)),
      FIRST_REQUEST_TIMEOUT_MS: '300',
      WS_PING_INTERVAL_MS: '100',
    });
    const c = await wssClient(gateway.port, authority.cert);
    let pings = 0;
    c.socket.on('ping', () => pings++);
    expect(await answers(c)).toBeGreaterThanOrEqual(200);
    // Pings 100 ms apart: the sixth comes well after the 300 ms the timers allow.
    await eventually(
      () => pings,
      (n) => n >= 6,
      (n) => `${n} pings`,
    );
    expect(await answers(c)).toBeGreaterThanOrEqual(200);
  });

  it('HTTP_REDIRECT_PORT sends plain HTTP to the same path over HTTPS', async () => {
    const redirectPort = await freeTcpPort();
    const gateway = await gatewayAt({
      TLS_SELF_SIGNED_DIR: folder(),
      HTTP_REDIRECT_PORT: String(redirectPort),
    });
    const answer = await new Promise<{ status?: number; location?: string }>((resolve, reject) =>
      httpGet(`http://${HOST}:${redirectPort}/?join=abc`, (response) => {
        response.resume();
        resolve({ status: response.statusCode, location: response.headers.location });
      }).once('error', reject),
    );
    expect(answer).toEqual({ status: 308, location: `https://${HOST}:${gateway.port}/?join=abc` });
  });

  it('stops start-up naming the field when certificate files are missing, unreadable or not a pair', async () => {
    expect(() => loadConfig({ TLS_CERT_FILE: '/nowhere/cert.pem' })).toThrow(/TLS_KEY_FILE/);
    expect(() => loadConfig({ TLS_KEY_FILE: '/nowhere/key.pem' })).toThrow(/TLS_CERT_FILE/);
    expect(() => loadConfig({ HTTP_REDIRECT_PORT: '8081' })).toThrow(/HTTP_REDIRECT_PORT/);
    expect(() => loadConfig({ UPSTREAM_CA_FILE: '/nowhere/ca.pem' })).toThrow(/UPSTREAM=tls/);
    const missing = loadConfig({ TLS_CERT_FILE: '/nowhere/cert.pem', TLS_KEY_FILE: '/nowhere/key.pem' });
    await expect(buildApp(missing)).rejects.toThrow(/^TLS_CERT_FILE: cannot read \/nowhere\/cert.pem/);
    const dir = folder();
    const files = writePair(dir, await serverCertificate([HOST]));
    writeFileSync(files.TLS_KEY_FILE, (await serverCertificate([HOST])).key);
    await expect(buildApp(loadConfig(files))).rejects.toThrow(/are not a PEM certificate and its key/);
    const unreadableCa = loadConfig({ UPSTREAM: 'tls:127.0.0.1:5061', UPSTREAM_CA_FILE: '/nowhere/ca.pem' });
    await expect(buildApp(unreadableCa)).rejects.toThrow(/^UPSTREAM_CA_FILE: cannot read/);
  });
});

describe('TLS toward the upstream', () => {
  /** A TLS server with `pem` on loopback; resolves with its port and how many TCP connections it was offered. */
  async function tlsUpstream(pem: Pem): Promise<{ port: number; connections(): number; close(): void }> {
    let connections = 0;
    const server = createTlsServer({ ...pem }, (socket) => socket.on('error', () => undefined));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as { port: number }).port,
      connections: () => connections,
      close: () => server.close(),
    };
  }

  /**
   * Connects the gateway's upstream transport to `upstream`; resolves with whether it connected and
   * what it logged, once it has either connected or been refused and tried again.
   */
  async function connectTo(
    upstream: { port: number; connections(): number },
    verify: { ca?: string; serverName?: string },
  ) {
    const warnings: string[] = [];
    let connected = false;
    const log = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (fields: { err?: NodeJS.ErrnoException }, message?: string) =>
        warnings.push(`${message}: ${fields.err?.code}`),
    };
    const transport = createUpstreamTransport(
      [{ transport: 'TLS', host: '127.0.0.1', port: upstream.port, path: '/', verify }],
      { host: '127.0.0.1', advertised: '127.0.0.1', port: 0 },
      65536,
      { message: () => undefined, connected: () => (connected = true), disconnected: () => undefined },
      log as never,
    );
    const before = upstream.connections();
    await transport.start();
    // Connected, or a fourth attempt reached the upstream (100, 200, 400 ms apart): a transport
    // opens the next connection only after the last one failed and its failure was handled
    // (logged or not). One of the four may be a late arrival of the previous transport's.
    await eventually(
      () => ({ connected, attempts: upstream.connections() - before }),
      (now) => now.connected || now.attempts >= 4,
      (now) => `neither connected nor tried again: ${now.attempts} attempts`,
    );
    transport.close();
    return { connected, warnings, local: transport.name };
  }

  it('connects only when the certificate verifies against the CA file and the configured name', async () => {
    const authority = await testAuthority();
    const upstream = await tlsUpstream(await serverCertificate(['sip.ringway.test'], authority));
    try {
      const good = await connectTo(upstream, { ca: authority.cert, serverName: 'sip.ringway.test' });
      expect(good).toEqual({ connected: true, warnings: [], local: 'TLS' });

      const stranger = await testAuthority('Somebody else');
      const wrongCa = await connectTo(upstream, { ca: stranger.cert, serverName: 'sip.ringway.test' });
      expect(wrongCa.connected).toBe(false);
      // Logged once, though it was tried again and again.
      expect(wrongCa.warnings).toEqual([
        'cannot connect to the upstream; retrying: UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      ]);

      const wrongName = await connectTo(upstream, {
        ca: authority.cert,
        serverName: 'other.ringway.test',
      });
      expect(wrongName.connected).toBe(false);
      expect(wrongName.warnings).toEqual([
        'cannot connect to the upstream; retrying: ERR_TLS_CERT_ALTNAME_INVALID',
      ]);

      // No name configured: the certificate must name the IP address, and this one does not.
      const byAddress = await connectTo(upstream, { ca: authority.cert });
      expect(byAddress.connected).toBe(false);
    } finally {
      upstream.close();
    }
  }, 20_000);
});
