import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '../sip/logger.js';
import { encodeHep3, type HepPacket } from './hep3.js';

/** A HEP collector (Homer's heplify-server, sngrep -L): an IP literal, never a name (no DNS). */
export interface HepTarget {
  host: string;
  port: number;
}

/** The HEP_URL syntax, for the configuration schema: `udp:<IPv4>:<port>` or `udp:[<IPv6>]:<port>`. */
export const HEP_URL_PATTERN = '^udp:(?:\\d{1,3}(?:\\.\\d{1,3}){3}|\\[[0-9A-Fa-f:.]+\\]):\\d{1,5}$';

/** `udp:10.0.0.5:9060` → { host, port }; throws an Error saying what is wrong. */
export function parseHepUrl(url: string): HepTarget {
  const match = /^udp:(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(url);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || !host || isIP(host) === 0 || !(port > 0 && port < 65536))
    throw new Error(
      `expected udp:<ip>:<port> with an IP address (no names: no DNS), e.g. udp:127.0.0.1:9060; got ${url}`,
    );
  return { host, port };
}

/** Send failures logged one by one; after that one line in this many. */
const FAILURES_LOGGED = 3;
const FAILURE_LOG_EVERY = 1000;

/**
 * Sends HEPv3 packets to one collector over UDP, fire and forget: a collector that is down or
 * slow costs the calls nothing (the datagrams are lost, a sampled warning says so).
 */
export class HepSender {
  readonly #socket: Socket;
  #failures = 0;

  constructor(
    private readonly target: HepTarget,
    private readonly captureAgentId: number,
    private readonly log: Logger,
  ) {
    this.#socket = createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
    this.#socket.on('error', (error) => this.#failed(error));
    this.#socket.unref();
  }

  send(packet: Omit<HepPacket, 'captureAgentId'>): void {
    const bytes = encodeHep3({ ...packet, captureAgentId: this.captureAgentId });
    if (!bytes) return;
    this.#socket.send(bytes, this.target.port, this.target.host, (error) => {
      if (error) this.#failed(error);
    });
  }

  close(): void {
    this.#socket.close();
  }

  #failed(error: Error): void {
    this.#failures += 1;
    if (this.#failures <= FAILURES_LOGGED || this.#failures % FAILURE_LOG_EVERY === 0)
      this.log.warn(
        { err: error, collector: `${this.target.host}:${this.target.port}`, failures: this.#failures },
        'HEP packet not sent',
      );
  }
}
