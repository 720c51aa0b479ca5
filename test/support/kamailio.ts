import { type ChildProcess, spawn } from 'node:child_process';
import { writeNodeConfig } from '../../kamailio-config/node-config.mjs';
import {
  freeTcpPort,
  freeUdpPort,
  whenAccepting,
} from '../../packages/gateway/test/support/loopback-ports.mjs';
import { RawSipClient } from '../../packages/gateway/test/support/raw-sip-client.js';
import { eventually } from './eventually.js';

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
  /** Starts it again on the same ports after `crash`; resolves once a WebSocket to it opens. */
  start(): Promise<void>;
  /** The last lines of its log (stderr), since its latest start. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Resolves once a SIP WebSocket to `url` opens (and closes it): Kamailio accepts TCP connections
 * before its workers can answer on them, and a client that connected in that moment was closed
 * without an answer (1006), seen in CI right after a restart.
 */
async function whenWebSocketOpens(url: string, deadline: number): Promise<void> {
  // What stopped the last attempt ('' once one opened).
  const attempt = () =>
    RawSipClient.connect(url).then(
      (client) => {
        client.close();
        return '';
      },
      (error: Error) => error.message || 'refused',
    );
  await eventually(
    attempt,
    (why) => why === '',
    (why) => `no WebSocket opens at ${url}: ${why}`,
    {
      ms: Math.max(0, deadline - Date.now()),
      everyMs: 20,
    },
  );
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
  /** A HEP collector (`127.0.0.1:port`, UDP): siptrace mirrors every SIP message there (-A WITH_HEP). */
  hep?: string;
}): Promise<RunningKamailio> {
  const port = await freeTcpPort();
  const udpPort = options.udpPort ?? (await freeUdpPort());
  const ip = options.ip ?? '127.0.0.1';
  const tlsPort = options.tls ? await freeTcpPort() : undefined;
  const { args } = writeNodeConfig({ ...options, ip, wsPort: port, udpPort, tlsPort });

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
    const deadline = Date.now() + 10_000;
    await Promise.race([
      whenAccepting(port, deadline, ip).then(() => whenWebSocketOpens(`ws://${ip}:${port}/`, deadline)),
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
