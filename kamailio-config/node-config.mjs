// One Kamailio node of Ringway's own kamailio-config/kamailio.cfg outside Docker: the config
// copied into a folder with kamailio-local.cfg (the values its substdefs name), the dispatcher
// list, presence tables and TLS files it needs, and the arguments (-A flags) to run it with. The
// one writer for the tests (test/support/kamailio.ts), the benchmarks (bench/lib/kamailio-node.mjs)
// and `npm run cluster` (scripts/cluster.mjs); entrypoint.sh is its twin for the container.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), 'kamailio.cfg');
/** Debian's db_text table definitions (package kamailio), copied for -A WITH_PRESENCE. */
const DBTEXT_TABLES = '/usr/share/kamailio/dbtext/kamailio';
const PRESENCE_TABLES = ['version', 'presentity', 'active_watchers', 'watchers', 'xcap', 'pua'];

/**
 * Writes a node's folder; returns it with kamailio's arguments. Options: `ip` (default
 * 127.0.0.1), `wsPort`, `udpPort`, `tlsPort` with `tls` {cert, key}, `sipDomain`, `secret`,
 * `rtpengine` (control socket: -A WITH_RTPENGINE), `registerMaxExpires`, `pbx` (`ip:port`:
 * -A WITH_PBX, dispatcher set 1), `presence` (-A WITH_PRESENCE), `dmq` {peers, notify}
 * (-A WITH_DMQ), `gateways` (upstream sides in order of preference: -A WITH_GATEWAYS, set 2),
 * `gatewayPingInterval` (s), `gatewayTimeoutMs`, `hep` (`ip:port` of a HEP collector: -A WITH_HEP),
 * `sharedMemoryMb` (default 64), `privateMemoryMb` (8).
 */
export function writeNodeConfig(options) {
  const ip = options.ip ?? '127.0.0.1';
  const folder = mkdtempSync(join(tmpdir(), 'ringway-kamailio-'));
  copyFileSync(CONFIG, join(folder, 'kamailio.cfg'));
  if (options.tls) {
    writeFileSync(join(folder, 'cert.pem'), options.tls.cert);
    writeFileSync(join(folder, 'key.pem'), options.tls.key, { mode: 0o600 });
    writeFileSync(
      join(folder, 'tls.cfg'),
      [
        '[server:default]',
        'method = TLSv1.2+',
        'verify_certificate = no',
        'require_certificate = no',
        `certificate = ${join(folder, 'cert.pem')}`,
        `private_key = ${join(folder, 'key.pem')}`,
        '',
      ].join('\n'),
    );
  }
  const values = {
    WS_LISTEN: `tcp:${ip}:${options.wsPort}`,
    UDP_LISTEN: `udp:${ip}:${options.udpPort}`,
    SIP_DOMAIN: options.sipDomain,
    AUTH_SECRET: options.secret,
    ...(options.rtpengine ? { RTPENGINE_SOCKET: options.rtpengine } : {}),
    ...(options.registerMaxExpires ? { REGISTER_MAX_EXPIRES: String(options.registerMaxExpires) } : {}),
    ...(options.pbx || options.gateways ? { DISPATCHER_LIST: join(folder, 'dispatcher.list') } : {}),
    ...(options.dmq
      ? {
          DMQ_SERVER_ADDRESS: `sip:${ip}:${options.udpPort}`,
          DMQ_NOTIFICATION_ADDRESS: `sip:${options.dmq.notify}`,
          DMQ_PEERS: options.dmq.peers.join(','),
        }
      : {}),
    ...(options.gatewayPingInterval ? { GATEWAY_PING_INTERVAL: String(options.gatewayPingInterval) } : {}),
    ...(options.gatewayTimeoutMs ? { GATEWAY_TIMEOUT: String(options.gatewayTimeoutMs) } : {}),
    ...(options.tls
      ? { TLS_LISTEN: `tls:${ip}:${options.tlsPort}`, TLS_CONFIG: join(folder, 'tls.cfg') }
      : {}),
    ...(options.hep ? { HEP_DESTINATION: `sip:${options.hep}` } : {}),
    ...(options.presence
      ? { PRESENCE_DB: `text://${join(folder, 'presence')}`, PRESENCE_SERVER: `sip:${ip}:${options.udpPort}` }
      : {}),
  };
  // Set 1: the PBX; set 2: the gateways, flag 8 (probed with OPTIONS), priority in the order given.
  const destinations = [
    ...(options.pbx ? [`1 sip:${options.pbx}`] : []),
    ...(options.gateways ?? []).map((gateway, i) => `2 sip:${gateway} 8 ${100 - i}`),
  ];
  if (destinations.length > 0) writeFileSync(join(folder, 'dispatcher.list'), `${destinations.join('\n')}\n`);
  if (options.presence) {
    mkdirSync(join(folder, 'presence'));
    for (const table of PRESENCE_TABLES)
      copyFileSync(join(DBTEXT_TABLES, table), join(folder, 'presence', table));
  }
  writeFileSync(
    join(folder, 'kamailio-local.cfg'),
    `${Object.entries(values)
      .map(([name, value]) => `#!substdef "!${name}!${value}!g"`)
      .join('\n')}\n`,
  );
  const memory = ['-m', String(options.sharedMemoryMb ?? 64), '-M', String(options.privateMemoryMb ?? 8)];
  const args = ['-DD', '-E', '-f', join(folder, 'kamailio.cfg'), ...memory];
  const flags = [
    [options.rtpengine, 'WITH_RTPENGINE'],
    [options.pbx, 'WITH_PBX'],
    [options.tls, 'WITH_TLS'],
    [options.presence, 'WITH_PRESENCE'],
    [options.dmq, 'WITH_DMQ'],
    [options.gateways, 'WITH_GATEWAYS'],
    [options.hep, 'WITH_HEP'],
  ];
  for (const [on, flag] of flags) if (on) args.push('-A', flag);
  return { folder, args };
}
