import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

/**
 * No Docker engine runs here, so the compose stack is checked statically: every service is
 * buildable and health-checked, the addresses, ports and secret agree across the gateway,
 * Kamailio, coturn and Asterisk, and Kamailio accepts its configuration as compose sets it up.
 */
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
  env_file?: string;
  command?: string;
  networks?: { sip?: { ipv4_address?: string } };
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const services = compose.services;
const ip = (name: string) => services[name]?.networks?.sip?.ipv4_address;

describe('docker-compose.yml and the stack configs', () => {
  it('has the six services, each with an image or a build and a healthcheck', () => {
    expect(Object.keys(services).sort()).toEqual([
      'asterisk',
      'coturn',
      'gateway',
      'kamailio',
      'redis',
      'rtpengine',
    ]);
    for (const [name, service] of Object.entries(services)) {
      const checked = {
        buildable: Boolean(service.image || service.build),
        healthcheck: (service.healthcheck?.test.length ?? 0) > 1,
      };
      expect({ name, ...checked }).toEqual({ name, buildable: true, healthcheck: true });
    }
  });

  it('points the gateway at Kamailio and Redis by address, and Kamailio at rtpengine and Asterisk', () => {
    const gateway = services.gateway?.environment ?? {};
    expect(gateway.UPSTREAM).toBe(`${ip('kamailio')}:5060`);
    expect(gateway.REDIS_URL).toBe(`redis://${ip('redis')}:6379`);
    const kamailio = services.kamailio?.environment ?? {};
    expect(kamailio).toEqual({
      KAMAILIO_IP: ip('kamailio'),
      RTPENGINE_IP: ip('rtpengine'),
      PBX_IP: ip('asterisk'),
    });
    expect(services.rtpengine?.command).toContain(`--listen-ng=${ip('rtpengine')}:22222`);
    expect(read('kamailio-config/entrypoint.sh')).toContain('udp:${KAMAILIO_IP}:5060');
  });

  it('shares one secret between the gateway, Kamailio and coturn', () => {
    expect(read('.env.example')).toMatch(/^AUTH_SECRET=.{16,}$/m);
    for (const name of ['gateway', 'kamailio', 'coturn'])
      expect([name, services[name]?.env_file]).toEqual([name, '.env']);
    expect(read('kamailio-config/entrypoint.sh')).toContain('!AUTH_SECRET!${AUTH_SECRET}!g');
    expect(services.coturn?.command).toContain('--use-auth-secret --static-auth-secret=${AUTH_SECRET}');
  });

  it('gives Asterisk a trunk to Kamailio, WebRTC endpoints, the dialplan and enough WebSocket sessions', () => {
    const pjsip = read('asterisk-config/pjsip.conf');
    expect(pjsip).toContain(`match=${ip('kamailio')}`);
    expect(pjsip).toContain(`contact=sip:${ip('kamailio')}:5060`);
    expect(pjsip).toMatch(/^webrtc=yes$/m);
    expect(read('asterisk-config/http.conf')).toMatch(/^sessionlimit=(\d{4,})$/m);
    expect(read('asterisk-config/rtp.conf')).toContain(`stunaddr=${ip('coturn')}:3478`);
    const dialplan = read('asterisk-config/extensions.conf');
    for (const needed of ['exten => 600,1', 'Echo()', 'exten => 700,1', 'ConfBridge(700)', 'VoiceMail(']) {
      expect(dialplan).toContain(needed);
    }
    for (const module of [
      'res_pjsip_transport_websocket.so',
      'app_confbridge.so',
      'app_voicemail.so',
      'codec_opus.so',
    ]) {
      expect(read('asterisk-config/modules.conf')).toContain(`load => ${module}`);
    }
  });

  it('Kamailio (Debian’s 5.6) accepts its configuration with the PBX route and rtpengine on', () => {
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
        '',
      ].join('\n'),
    );
    const check = spawnSync(
      'kamailio',
      ['-A', 'WITH_PBX', '-A', 'WITH_RTPENGINE', '-c', '-f', join(folder, 'kamailio.cfg')],
      {
        encoding: 'utf8',
      },
    );
    expect(check.stderr + check.stdout).toContain('config file ok');
    expect(check.status).toBe(0);
  });
});
