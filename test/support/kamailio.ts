import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freeTcpPort,
  freeUdpPort,
  whenAccepting,
} from '../../packages/gateway/test/support/loopback-ports.mjs';

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'kamailio-config', 'kamailio.cfg');
/** Debian's db_text table definitions (package kamailio), copied for -A WITH_PRESENCE. */
const DBTEXT_TABLES = '/usr/share/kamailio/dbtext/kamailio';
const PRESENCE_TABLES = ['version', 'presentity', 'active_watchers', 'watchers', 'xcap', 'pua'];

export interface RunningKamailio {
  wsUrl: string;
  /** Its plain SIP address, `127.0.0.1:port` (UDP). */
  udp: string;
  /** Its SIP-over-TLS address, `127.0.0.1:port`, when started with a certificate. */
  tls?: string;
  /** Kills it with SIGKILL (no clean-up, registrations lost with it) and starts it again on the same ports. */
  crashAndRestart(): Promise<void>;
  /** Kills it with SIGKILL (its whole process group) and waits for it to be gone; `start` brings it back. */
  crash(): Promise<void>;
  /** Starts it again on the same ports after `crash`; resolves once its WebSocket port accepts. */
  start(): Promise<void>;
  /** The last lines of its log (stderr), since its latest start. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Debian's Kamailio running kamailio-config/kamailio.cfg on free loopback ports, with the values
 * of kamailio-local.cfg written for this run; with `rtpengine` (a control socket) it bridges
 * media through it (-A WITH_RTPENGINE), with `pbx` it sends unknown numbers there (-A WITH_PBX).
 * Stopped by the PID it was started with.
 */
export async function startKamailio(options: {
  secret: string;
  sipDomain: string;
  rtpengine?: string;
  /** The longest registration it grants, in seconds (600 when not given). */
  registerMaxExpires?: number;
  /** A PBX (`127.0.0.1:port`, UDP) for numbers nobody registered (-A WITH_PBX, dispatcher set 1). */
  pbx?: string;
  /** A certificate and key (PEM) for a SIP-over-TLS listener (-A WITH_TLS). */
  tls?: { cert: string; key: string };
  /** Be the presence server of the domain (-A WITH_PRESENCE), its tables in db_text files. */
  presence?: boolean;
  /** Its UDP port (default: a free one), e.g. chosen beforehand so that cluster peers can name it. */
  udpPort?: number;
  /** The loopback address it listens on (default 127.0.0.1): cluster nodes on 127.0.0.2, .3… */
  ip?: string;
  /**
   * One node of a DMQ cluster (-A WITH_DMQ): `peers` is every node's UDP address
   * (`127.0.0.1:port`, this one's included), `notify` the peer it asks for the node list at start.
   */
  dmq?: { peers: string[]; notify: string };
  /**
   * Ringway gateways in front of it (-A WITH_GATEWAYS, dispatcher set 2): their upstream UDP
   * addresses (`127.0.0.1:port`), probed with OPTIONS every `gatewayPingInterval` seconds; an
   * in-dialog request a gateway leaves unanswered for `gatewayTimeoutMs` goes to the next.
   */
  gateways?: string[];
  gatewayPingInterval?: number;
  gatewayTimeoutMs?: number;
}): Promise<RunningKamailio> {
  const port = await freeTcpPort();
  const udpPort = options.udpPort ?? (await freeUdpPort());
  const ip = options.ip ?? '127.0.0.1';
  const tlsPort = options.tls ? await freeTcpPort() : undefined;
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
    WS_LISTEN: `tcp:${ip}:${port}`,
    UDP_LISTEN: `udp:${ip}:${udpPort}`,
    SIP_DOMAIN: options.sipDomain,
    AUTH_SECRET: options.secret,
    ...(options.rtpengine ? { RTPENGINE_SOCKET: options.rtpengine } : {}),
    ...(options.registerMaxExpires ? { REGISTER_MAX_EXPIRES: String(options.registerMaxExpires) } : {}),
    ...(options.pbx || options.gateways ? { DISPATCHER_LIST: join(folder, 'dispatcher.list') } : {}),
    ...(options.dmq
      ? {
          DMQ_SERVER_ADDRESS: `sip:${ip}:${udpPort}`,
          DMQ_NOTIFICATION_ADDRESS: `sip:${options.dmq.notify}`,
          DMQ_PEERS: options.dmq.peers.join(','),
        }
      : {}),
    ...(options.gatewayPingInterval ? { GATEWAY_PING_INTERVAL: String(options.gatewayPingInterval) } : {}),
    ...(options.gatewayTimeoutMs ? { GATEWAY_TIMEOUT: String(options.gatewayTimeoutMs) } : {}),
    ...(tlsPort ? { TLS_LISTEN: `tls:${ip}:${tlsPort}`, TLS_CONFIG: join(folder, 'tls.cfg') } : {}),
    ...(options.presence
      ? { PRESENCE_DB: `text://${join(folder, 'presence')}`, PRESENCE_SERVER: `sip:${ip}:${udpPort}` }
      : {}),
  };
  // Set 1: the PBX; set 2: the gateways, flag 8 (probed with OPTIONS).
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
  const args = ['-DD', '-E', '-f', join(folder, 'kamailio.cfg'), '-m', '64', '-M', '8'];
  if (options.rtpengine) args.push('-A', 'WITH_RTPENGINE');
  if (options.pbx) args.push('-A', 'WITH_PBX');
  if (options.tls) args.push('-A', 'WITH_TLS');
  if (options.presence) args.push('-A', 'WITH_PRESENCE');
  if (options.dmq) args.push('-A', 'WITH_DMQ');
  if (options.gateways) args.push('-A', 'WITH_GATEWAYS');

  let log = '';
  const launch = async () => {
    // Its own process group: a SIGKILL must reach the workers too, or they keep the ports.
    const child: ChildProcess = spawn('kamailio', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-20000);
      if (process.env.KAMAILIO_DEBUG) process.stderr.write(d);
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await Promise.race([
      whenAccepting(port, Date.now() + 10_000, ip),
      exited.then((code) => {
        throw new Error(`kamailio exited with ${code}: ${log}`);
      }),
    ]);
    return { child, exited };
  };
  let running: Awaited<ReturnType<typeof launch>> | undefined = await launch();
  const stop = async (signal: NodeJS.Signals) => {
    if (!running) return;
    process.kill(-(running.child.pid as number), signal);
    await running.exited;
    running = undefined;
  };
  return {
    wsUrl: `ws://${ip}:${port}/`,
    udp: `${ip}:${udpPort}`,
    ...(tlsPort ? { tls: `${ip}:${tlsPort}` } : {}),
    async crashAndRestart() {
      await stop('SIGKILL');
      running = await launch();
    },
    crash: () => stop('SIGKILL'),
    async start() {
      running = await launch();
    },
    log: () => log,
    stop: () => stop('SIGTERM'),
  };
}
