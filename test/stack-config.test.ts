import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

/**
 * The compose stack checked statically (test/stack/ runs it on a real engine): every service is
 * buildable and health-checked, the file stays valid for Compose v1.29 as well as v2, the
 * addresses, ports and secret agree across the gateway, Kamailio, coturn and Asterisk (whose image
 * cannot be run here), and Kamailio accepts its configuration as compose sets it up.
 */
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
  command?: string[];
  ports?: string[];
  networks?: { sip?: { ipv4_address?: string } };
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as Record<string, unknown> & {
  services: Record<string, Service & { profiles?: string[] }>;
};
// The stack `up` starts; services of a profile (observability) are checked in their own tests.
const services = Object.fromEntries(
  Object.entries(compose.services).filter(([, service]) => !service.profiles),
);
const ip = (name: string) => services[name]?.networks?.sip?.ipv4_address;

describe('docker-compose.yml and the stack configs', () => {
  it('has the six services, each with an image or a build and a healthcheck, after the gateway’s configuration check', () => {
    expect(Object.keys(services).sort()).toEqual([
      'asterisk',
      'coturn',
      'gateway',
      'gateway-config',
      'kamailio',
      'redis',
      'rtpengine',
    ]);
    const { 'gateway-config': check, ...running } = services;
    expect(check).toMatchObject({
      restart: 'no',
      command: ['node', 'packages/gateway/dist/check-config.mjs'],
    });
    for (const [name, service] of Object.entries(running)) {
      const checked = {
        buildable: Boolean(service.image || service.build),
        healthcheck: (service.healthcheck?.test.length ?? 0) > 1,
      };
      expect({ name, ...checked }).toEqual({ name, buildable: true, healthcheck: true });
    }
  });

  it('stays valid for Compose v1.29 (Debian 12): no v2-only keys, one Dockerfile per service folder', () => {
    expect(Object.keys(compose).filter((key) => ['name', 'include'].includes(key))).toEqual([]);
    for (const [name, service] of Object.entries(services)) {
      const build = (service.build ?? {}) as Record<string, unknown>;
      expect([name, Object.keys(build).filter((key) => key.startsWith('dockerfile_inline'))]).toEqual([
        name,
        [],
      ]);
      expect([name, Object.keys(service).filter((key) => ['develop', 'env_file'].includes(key))]).toEqual([
        name,
        [],
      ]);
      if (!service.build) continue;
      const dockerfile = join(String(build.context), String(build.dockerfile ?? 'Dockerfile'));
      expect([name, dirname(dockerfile) !== '.', existsSync(join(root, dockerfile))]).toEqual([
        name,
        true,
        true,
      ]);
    }
  });

  it('serves HTTPS from the gateway: a certificate from TLS_DIR, or a self-signed one kept in its volume', () => {
    const gateway = services.gateway as Service & { volumes?: string[] };
    expect(gateway.environment).toMatchObject({
      TLS_CERT_FILE: '${TLS_CERT_FILE:-}',
      TLS_KEY_FILE: '${TLS_KEY_FILE:-}',
      TLS_SELF_SIGNED_DIR: '/data/tls',
    });
    expect(gateway.volumes).toEqual(['gateway-data:/data', '${TLS_DIR:-./tls}:/tls:ro']);
    expect(existsSync(join(root, 'tls', 'README.md'))).toBe(true);
  });

  it('publishes no media port range: only the page and TURN, on BIND_IP', () => {
    const published = Object.values(services).flatMap((service) => service.ports ?? []);
    expect(published.sort()).toEqual([
      '${BIND_IP:-127.0.0.1}:3478:3478/tcp',
      '${BIND_IP:-127.0.0.1}:3478:3478/udp',
      '${BIND_IP:-127.0.0.1}:8080:8080',
    ]);
  });

  it('points the gateway at Kamailio and Redis by address, and Kamailio at rtpengine and Asterisk', () => {
    const gateway = services.gateway?.environment ?? {};
    expect(gateway.UPSTREAM).toBe(`${ip('kamailio')}:5060`);
    expect(gateway.REDIS_URL).toBe(`redis://${ip('redis')}:6379`);
    const kamailio = services.kamailio?.environment ?? {};
    expect(kamailio).toMatchObject({
      KAMAILIO_IP: ip('kamailio'),
      RTPENGINE_IP: ip('rtpengine'),
      PBX_IP: ip('asterisk'),
    });
    expect(services.rtpengine?.command).toContain(`--listen-ng=${ip('rtpengine')}:22222`);
    expect(read('kamailio-config/entrypoint.sh')).toContain('udp:${KAMAILIO_IP}:5060');
  });

  it('shares one secret between the gateway, Kamailio and coturn, with the placeholder of .env.example as default', () => {
    const placeholder = read('.env.example').match(/^AUTH_SECRET=(change-me.{16,})$/m)?.[1];
    const shared = `\${AUTH_SECRET:-${placeholder}}`;
    expect(services.gateway?.environment?.AUTH_SECRET).toBe(shared);
    expect(services.kamailio?.environment?.AUTH_SECRET).toBe(shared);
    expect(read('kamailio-config/entrypoint.sh')).toContain('!AUTH_SECRET!${AUTH_SECRET}!g');
    // coturn's reaches it in a file its entrypoint writes: never on a command line (`ps`).
    expect(services.coturn?.environment?.AUTH_SECRET).toBe(shared);
    expect(JSON.stringify(services.coturn?.command)).not.toContain('AUTH_SECRET');
    expect(read('coturn-config/entrypoint.sh')).toMatch(/static-auth-secret=%s.*"\$AUTH_SECRET"/);
    // The services sharing it start only after the check that refuses the placeholder passed.
    for (const name of ['gateway', 'kamailio', 'coturn'])
      expect([
        name,
        (services[name] as { depends_on?: Record<string, unknown> }).depends_on?.['gateway-config'],
      ]).toEqual([name, { condition: 'service_completed_successfully' }]);
  });

  it('gives Asterisk a trunk to Kamailio, WebRTC endpoints, the dialplan and enough WebSocket sessions', () => {
    const pjsip = read('asterisk-config/pjsip.conf');
    expect(pjsip).toContain(`match=${ip('kamailio')}`);
    expect(pjsip).toContain(`contact=sip:${ip('kamailio')}:5060`);
    expect(pjsip).toMatch(/^webrtc=yes$/m);
    expect(read('asterisk-config/http.conf')).toMatch(/^sessionlimit=(\d{4,})$/m);
    // ICE on, and no STUN server that only the compose network reaches (the same file serves the
    // loopback tests, test/asterisk.test.ts).
    const rtp = read('asterisk-config/rtp.conf');
    expect(rtp).toMatch(/^icesupport=yes$/m);
    expect(rtp).not.toMatch(/^stunaddr=/m);
    const dialplan = read('asterisk-config/extensions.conf');
    for (const needed of ['exten => 600,1', 'Echo()', 'exten => 700,1', 'ConfBridge(700)', 'VoiceMail(']) {
      expect(dialplan).toContain(needed);
    }
    // Which modules load is checked against a real Asterisk (test/asterisk.test.ts); here only that
    // none the stack needs is left out of the autoload.
    const modules = read('asterisk-config/modules.conf');
    expect(modules).toMatch(/^autoload=yes$/m);
    for (const module of ['res_pjsip_transport_websocket.so', 'app_confbridge.so', 'app_voicemail.so'])
      expect(modules).not.toMatch(new RegExp(`^noload\\s*=>\\s*${module.replace('.', '\\.')}`, 'm'));
  });

  it('Kamailio (Debian’s 5.6) accepts its configuration with the PBX route, rtpengine and presence on', () => {
    const folder = mkdtempSync(join(tmpdir(), 'ringway-stack-'));
    copyFileSync(join(root, 'kamailio-config', 'kamailio.cfg'), join(folder, 'kamailio.cfg'));
    writeFileSync(join(folder, 'dispatcher.list'), `1 sip:${ip('asterisk')}:5060\n`);
    writeFileSync(
      join(folder, 'kamailio-local.cfg'),
      [
        '#!substdef "!WS_LISTEN!tcp:127.0.0.1:18189!g"',
        '#!substdef "!UDP_LISTEN!udp:127.0.0.1:18190!g"',
        '#!substdef "!SIP_DOMAIN!ringway.local!g"',
        '#!substdef "!AUTH_SECRET!a-secret-of-some-length!g"',
        `#!substdef "!RTPENGINE_SOCKET!udp:127.0.0.1:22222!g"`,
        `#!substdef "!DISPATCHER_LIST!${join(folder, 'dispatcher.list')}!g"`,
        '#!substdef "!REGISTER_MAX_EXPIRES!60!g"',
        `#!substdef "!PRESENCE_DB!text://${folder}!g"`,
        '#!substdef "!PRESENCE_SERVER!sip:127.0.0.1:18190!g"',
        '',
      ].join('\n'),
    );
    const check = spawnSync(
      'kamailio',
      [
        '-A',
        'WITH_PBX',
        '-A',
        'WITH_RTPENGINE',
        '-A',
        'WITH_PRESENCE',
        '-c',
        '-f',
        join(folder, 'kamailio.cfg'),
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(check.stderr + check.stdout).toContain('config file ok');
    expect(check.status).toBe(0);
  });

  it('Kamailio accepts its configuration as a cluster node (-A WITH_DMQ) with gateways as dispatcher set 2 (-A WITH_GATEWAYS)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'ringway-stack-'));
    copyFileSync(join(root, 'kamailio-config', 'kamailio.cfg'), join(folder, 'kamailio.cfg'));
    writeFileSync(
      join(folder, 'dispatcher.list'),
      `1 sip:${ip('asterisk')}:5060\n2 sip:127.0.0.1:18291 8\n2 sip:127.0.0.1:18292 8\n`,
    );
    writeFileSync(
      join(folder, 'kamailio-local.cfg'),
      [
        '#!substdef "!WS_LISTEN!tcp:127.0.0.1:18189!g"',
        '#!substdef "!UDP_LISTEN!udp:127.0.0.1:18190!g"',
        '#!substdef "!SIP_DOMAIN!ringway.local!g"',
        '#!substdef "!AUTH_SECRET!a-secret-of-some-length!g"',
        `#!substdef "!RTPENGINE_SOCKET!udp:127.0.0.1:22222!g"`,
        `#!substdef "!DISPATCHER_LIST!${join(folder, 'dispatcher.list')}!g"`,
        `#!substdef "!PRESENCE_DB!text://${folder}!g"`,
        '#!substdef "!PRESENCE_SERVER!sip:127.0.0.1:18190!g"',
        '#!substdef "!DMQ_SERVER_ADDRESS!sip:127.0.0.1:18190!g"',
        '#!substdef "!DMQ_NOTIFICATION_ADDRESS!sip:127.0.0.1:18290!g"',
        '#!substdef "!DMQ_PEERS!127.0.0.1:18190,127.0.0.1:18290!g"',
        '',
      ].join('\n'),
    );
    const flags = ['WITH_PBX', 'WITH_RTPENGINE', 'WITH_PRESENCE', 'WITH_DMQ', 'WITH_GATEWAYS'];
    const check = spawnSync(
      'kamailio',
      [...flags.flatMap((flag) => ['-A', flag]), '-c', '-f', join(folder, 'kamailio.cfg')],
      { encoding: 'utf8' },
    );
    expect(check.stderr + check.stdout).toContain('config file ok');
    expect(check.status).toBe(0);
  });
});
