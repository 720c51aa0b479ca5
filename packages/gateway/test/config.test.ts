import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config/load-config.js';

describe('loadConfig', () => {
  it('defaults to loopback, port 8080 and anonymous development mode', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      sipDomain: '127.0.0.1',
      allowAnonymous: true,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /port \(environment PORT\)/],
    [{ PORT: '70000' }, /port \(environment PORT\)/],
    [{ HOST: 'gateway.example.com' }, /host \(environment HOST\)/],
    [{ ICE_SERVERS: '[{"url":"stun:x"}]' }, /iceServers/],
    [{ ICE_SERVERS: 'not json' }, /iceServers \(environment ICE_SERVERS\)/],
    [{ AUTH_SECRET: 'short' }, /authSecret \(environment AUTH_SECRET\)/],
    [{ REGISTER_MIN_EXPIRES: '600', REGISTER_MAX_EXPIRES: '60' }, /minExpires ≤ defaultExpires ≤ maxExpires/],
    [{ LOG_LEVEL: 'loud' }, /logLevel/],
    [{ LOG_FORMAT: 'xml' }, /logFormat \(environment LOG_FORMAT\)/],
  ])('stops on %j with a message naming the field', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses to listen beyond loopback without authentication', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(
      /refusing to listen on 0.0.0.0 without authentication/,
    );
    expect(loadConfig({ HOST: '0.0.0.0', AUTH_SECRET: 'x'.repeat(32) })).toMatchObject({
      allowAnonymous: false,
    });
    expect(() =>
      loadConfig({ HOST: '0.0.0.0', AUTH_SECRET: 'x'.repeat(32), ALLOW_ANONYMOUS: 'true' }),
    ).toThrow(ConfigError);
  });

  it('reads a JSON file and lets the environment override it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ringway-')), 'gateway.json');
    writeFileSync(
      file,
      JSON.stringify({ port: 9000, sipDomain: 'example.org', registration: { maxExpires: 7200 } }),
    );
    const config = loadConfig({ CONFIG_FILE: file, PORT: '9001' });
    expect(config).toMatchObject({ port: 9001, sipDomain: 'example.org' });
    expect(config.registration).toEqual({ minExpires: 60, maxExpires: 7200, defaultExpires: 600 });
  });

  it('names the field of a bad value in the file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ringway-')), 'gateway.json');
    writeFileSync(file, JSON.stringify({ registration: { minExpires: 'soon' } }));
    expect(() => loadConfig({ CONFIG_FILE: file })).toThrow(/registration\.minExpires/);
    writeFileSync(file, JSON.stringify({ colour: 'blue' }));
    expect(() => loadConfig({ CONFIG_FILE: file })).toThrow(/colour/);
  });

  it('runs one process unless upstream mode asks for workers; the embedded registrar refuses more', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ UPSTREAM: '127.0.0.1:5060' }).workers).toBe(1);
    expect(
      loadConfig({
        UPSTREAM: '127.0.0.1:5060',
        REDIS_URL: 'redis://127.0.0.1:6379',
        AUTH_SECRET: 'x'.repeat(32),
      }).workers,
    ).toBe(availableParallelism());
    expect(loadConfig({ UPSTREAM: '127.0.0.1:5060', WORKERS: '3' }).workers).toBe(3);
    expect(() => loadConfig({ WORKERS: '2' })).toThrow(
      /workers \(environment WORKERS\) is 2, but the embedded registrar/,
    );
    expect(() => loadConfig({ UPSTREAM: '127.0.0.1:5060', WORKERS: '0' })).toThrow(
      /workers \(environment WORKERS\)/,
    );
  });

  it('takes the SIP WebSockets of every gateway of a deployment (WS_SERVERS), none by default', () => {
    expect(loadConfig({}).wsServers).toEqual([]);
    expect(
      loadConfig({ WS_SERVERS: ' wss://gw1.example.com/sip, wss://gw2.example.com:8443/sip ' }).wsServers,
    ).toEqual(['wss://gw1.example.com/sip', 'wss://gw2.example.com:8443/sip']);
    expect(loadConfig({ WS_SERVERS: 'ws://127.0.0.1:8080/sip,ws://[::1]:8081' }).wsServers).toHaveLength(2);
    // Start-up stops on an URL a browser's WebSocket cannot open, naming the field and the value.
    for (const bad of ['http://gw2.example.com/sip', 'gw2.example.com:8080', 'wss://', 'ws://gw 2/sip']) {
      expect(() => loadConfig({ WS_SERVERS: `ws://gw1.example.com/sip,${bad}` })).toThrow(
        new RegExp(`wsServers\\.1 \\(environment WS_SERVERS\\): .*; got "${bad}"`),
      );
    }
  });

  it('takes several upstream nodes over UDP, the other gateways of a deployment and a keep-alive interval', async () => {
    const config = loadConfig({
      UPSTREAM: 'udp:127.0.0.2:5060,127.0.0.3:5060',
      PEER_GATEWAYS: '127.0.0.4:5070,127.0.0.5:5070',
      UPSTREAM_KEEPALIVE_MS: '250',
    });
    expect(config.upstream).toBe('udp:127.0.0.2:5060,127.0.0.3:5060');
    expect(config.peerGateways).toEqual(['127.0.0.4:5070', '127.0.0.5:5070']);
    expect(config.upstreamKeepAliveMs).toBe(250);
    expect(loadConfig({}).upstreamKeepAliveMs).toBe(5000);
    expect(() => loadConfig({ PEER_GATEWAYS: 'gateway-2:5070' })).toThrow(/peerGateways\.0/);
    expect(() => loadConfig({ UPSTREAM: '127.0.0.2:5060,' })).toThrow(/UPSTREAM/);
    expect(() => loadConfig({ UPSTREAM_KEEPALIVE_MS: '10' })).toThrow(/UPSTREAM_KEEPALIVE_MS/);
    // Several nodes over a connection-oriented transport: start-up stops, naming the field.
    await expect(buildApp(loadConfig({ UPSTREAM: 'tcp:127.0.0.2:5060,tcp:127.0.0.3:5060' }))).rejects.toThrow(
      /^UPSTREAM: several upstream nodes are supported over UDP only/,
    );
  });
});
