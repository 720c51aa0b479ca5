import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import WebSocket from 'ws';
import { FORWARD_SECRET_CIPHERS } from '../../tls/server-certificate.js';
import type { Logger } from '../logger.js';
import { SipStreamFramer } from './sip-stream-framer.js';
import type { UpstreamTarget, UpstreamTransportName } from './upstream-target.js';

export interface UpstreamTransportEvents {
  message(data: Buffer): void;
  /** A connection-oriented transport is (again) connected; UDP once bound. */
  connected(): void;
  /** The connection is gone; the transport is reconnecting by itself. */
  disconnected(): void;
}

/** One way to carry SIP to the upstream; connection-oriented ones reconnect by themselves. */
export interface UpstreamTransport {
  readonly name: UpstreamTransportName;
  /** The upstream node in use. */
  readonly target: UpstreamTarget;
  /** Moves to the next node of the list, if there is another one: whether it moved. */
  failOver(): boolean;
  /** `host:port` of this side, for Via, Path and Record-Route; empty while not connected. */
  readonly local: string;
  start(): Promise<void>;
  /**
   * Sends one message; dropped (the relay answers 503 meanwhile) while not connected. `node`: the
   * upstream node it answers (a response goes back to the node that sent the request), used only
   * when it is one of the configured nodes; else the node in use.
   */
  send(message: string, node?: { host: string; port: number }): void;
  close(): void;
}

/** Reconnection delays for one connection: doubling from 100 ms up to 5 s. */
const reconnectDelay = (attempt: number) => Math.min(5000, 100 * 2 ** attempt);

/** This side of the relay: the address to bind, the one to write (Via, Path), a port (0: any). */
export interface UpstreamLocal {
  host: string;
  /** What the upstream reaches us at: differs from `host` when that is a wildcard (0.0.0.0). */
  advertised: string;
  port: number;
}

/** A transport to the first of `targets` (several only over UDP: parseUpstreamTargets). */
export function createUpstreamTransport(
  targets: readonly [UpstreamTarget, ...UpstreamTarget[]],
  local: UpstreamLocal,
  maxMessageBytes: number,
  events: UpstreamTransportEvents,
  log: Logger,
): UpstreamTransport {
  if (targets[0].transport === 'UDP') return new UdpTransport(targets, local, events, log);
  return new ConnectionTransport(targets[0], local, maxMessageBytes, events, log);
}

/** UDP to one node of a list at a time; datagrams are heard from every node of it. */
class UdpTransport implements UpstreamTransport {
  readonly name = 'UDP';
  #socket: UdpSocket | undefined;
  #active = 0;
  local = '';

  constructor(
    private readonly targets: readonly [UpstreamTarget, ...UpstreamTarget[]],
    private readonly localSide: UpstreamLocal,
    private readonly events: UpstreamTransportEvents,
    private readonly log: Logger,
  ) {}

  get target(): UpstreamTarget {
    return this.targets[this.#active] ?? this.targets[0];
  }

  failOver(): boolean {
    if (this.targets.length < 2) return false;
    this.#active = (this.#active + 1) % this.targets.length;
    return true;
  }

  async start(): Promise<void> {
    const socket = createSocket('udp4');
    // Anyone who can reach this port could otherwise speak as the upstream (a request with our
    // Route reaches a client's WebSocket): only the upstream nodes' own addresses and ports are heard.
    socket.on('message', (data, from) => {
      if (this.targets.some((target) => from.address === target.host && from.port === target.port))
        this.events.message(data);
      else
        this.log.debug({ from: `${from.address}:${from.port}` }, 'datagram not from the upstream; dropped');
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // Exclusive: in a cluster worker a shared socket (Node's default there) would hand the
      // upstream's answers to whichever worker, not to the one that holds the client.
      socket.bind({ port: this.localSide.port, address: this.localSide.host, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (error) => this.log.warn({ err: error }, 'upstream socket error'));
    this.#socket = socket;
    this.local = `${this.localSide.advertised}:${socket.address().port}`;
    this.events.connected();
  }

  send(message: string, node?: { host: string; port: number }): void {
    const to =
      (node && this.targets.find((target) => target.host === node.host && target.port === node.port)) ??
      this.target;
    this.#socket?.send(message, to.port, to.host);
  }

  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }
}

/**
 * SIP over TCP or TLS (framed by Content-Length) or over a WebSocket (one message per frame). On
 * loss it reconnects from the same local port when it can, so that the Paths and Record-Routes
 * the upstream stored (which name that port) stay valid. A TLS upstream whose certificate does
 * not verify is never used: each failed attempt is logged, and clients get 503 meanwhile.
 */
class ConnectionTransport implements UpstreamTransport {
  readonly name: UpstreamTransportName;
  local = '';
  #tcp: TcpSocket | undefined;
  #ws: WebSocket | undefined;
  #attempt = 0;
  #localPort: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** The last reason a connection attempt failed, so that a refusal repeating every 5 s is logged once. */
  #lastFailure = '';

  readonly #localHost: string;
  readonly #advertised: string;

  constructor(
    readonly target: UpstreamTarget,
    localSide: UpstreamLocal,
    private readonly maxMessageBytes: number,
    private readonly events: UpstreamTransportEvents,
    private readonly log: Logger,
  ) {
    this.name = target.transport;
    this.#localHost = localSide.host;
    this.#advertised = localSide.advertised;
    this.#localPort = localSide.port || undefined;
  }

  async start(): Promise<void> {
    this.#connect();
  }

  failOver(): boolean {
    return false;
  }

  send(message: string): void {
    if (!this.local) return;
    if (this.#ws) this.#ws.send(message);
    else this.#tcp?.write(message);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.terminate();
    this.#tcp?.destroy();
  }

  #connect(): void {
    const localPort = this.#localPort;
    const onOpen = (port: number) => {
      this.#attempt = 0;
      this.#lastFailure = '';
      this.#localPort = port;
      this.local = `${this.#advertised}:${port}`;
      this.log.info({ upstream: this.#describe(), local: this.local }, 'upstream connected');
      this.events.connected();
    };
    const onClose = (error?: Error) => {
      const wasConnected = this.local !== '';
      this.local = '';
      this.#ws = undefined;
      this.#tcp = undefined;
      if (this.#closed) return;
      // The old port may be taken meanwhile: after a failed attempt on it, take any.
      const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
      if (!wasConnected && code === 'EADDRINUSE') this.#localPort = undefined;
      if (!wasConnected && error && code !== this.#lastFailure) {
        this.#lastFailure = code;
        this.log.warn({ upstream: this.#describe(), err: error }, 'cannot connect to the upstream; retrying');
      }
      if (wasConnected) {
        this.log.warn({ upstream: this.#describe(), err: error }, 'upstream connection lost; reconnecting');
        this.events.disconnected();
      }
      this.#timer = setTimeout(() => this.#connect(), reconnectDelay(this.#attempt++));
      this.#timer.unref();
    };
    if (this.target.transport === 'WS') {
      const url = `ws://${this.target.host}:${this.target.port}${this.target.path}`;
      const ws = new WebSocket(url, 'sip', {
        localAddress: this.#localHost,
        ...(localPort ? { localPort } : {}),
        maxPayload: this.maxMessageBytes,
        perMessageDeflate: false,
      });
      this.#ws = ws;
      let failure: Error | undefined;
      let port = 0;
      ws.on('upgrade', (response) => {
        port = response.socket.localPort ?? 0;
      });
      ws.on('open', () => onOpen(port));
      ws.on('message', (data: Buffer) => this.events.message(data));
      ws.on('error', (error) => {
        failure = error;
      });
      ws.on('close', () => onClose(failure));
      return;
    }
    const endpoint = {
      host: this.target.host,
      port: this.target.port,
      localAddress: this.#localHost,
      ...(localPort ? { localPort } : {}),
    };
    const verify = this.target.verify;
    const socket =
      this.target.transport === 'TLS'
        ? connectTls({
            ...endpoint,
            minVersion: 'TLSv1.2',
            // The same suites the gateway's own listeners offer: forward-secret AEAD only.
            ciphers: FORWARD_SECRET_CIPHERS,
            ...(verify?.ca ? { ca: verify.ca } : {}),
            // Verified against the configured name, else the IP address itself; never unchecked.
            ...(verify?.serverName ? { servername: verify.serverName } : {}),
            rejectUnauthorized: true,
          })
        : connect(endpoint);
    this.#tcp = socket;
    const framer = new SipStreamFramer(this.maxMessageBytes);
    let failure: Error | undefined;
    socket.setNoDelay(true);
    socket.on(this.target.transport === 'TLS' ? 'secureConnect' : 'connect', () =>
      onOpen(socket.localPort ?? 0),
    );
    socket.on('data', (chunk) => {
      try {
        for (const message of framer.push(chunk)) this.events.message(message);
      } catch (error) {
        this.log.warn({ err: error }, 'unframeable SIP stream from upstream; reconnecting');
        socket.destroy();
      }
    });
    socket.on('error', (error) => {
      failure = error;
    });
    socket.on('close', () => onClose(failure));
  }

  #describe(): string {
    return `${this.target.transport.toLowerCase()}:${this.target.host}:${this.target.port}`;
  }
}
