import type { Logger } from '../sip/logger.js';
import { CallRing } from './call-ring.js';
import type { CapturedMessage, CaptureEndpoint, CaptureTransport } from './captured-message.js';
import { readCallId, startsAsSipMessage } from './captured-message.js';
import { HepSender, type HepTarget } from './hep-sender.js';
import { maskSecrets } from './secret-masking.js';

export interface SipCaptureOptions {
  /** Calls kept for the ladder (0: none), and bytes of their messages at most. */
  maxCalls: number;
  maxBytes: number;
  /** Where the WebSocket leg goes as HEPv3, and the capture agent id it carries. */
  hep?: { target: HepTarget; captureAgentId: number };
  log: Logger;
}

/** Both ends of one WebSocket flow: the client's address and the gateway's own. */
export interface FlowAddresses {
  transport: 'WS' | 'WSS';
  client: { ip: string; port: number };
  gateway: { ip: string; port: number };
}

/** What the WebSocket plugin tells the capture of one flow: each message as text. */
export interface FlowTap {
  received(text: string): void;
  sent(text: string): void;
}

/** A keep-alive (CRLF, RFC 5626 §3.5.1) is no message. */
const KEEPALIVE = /^\s*$/;

const now = () => performance.timeOrigin + performance.now();

/**
 * Sees every SIP message the gateway sends and receives on its WebSocket flows and its upstream
 * leg: keeps those of calls in the ring (the operator's ladder, http/operator-calls.ts) and sends
 * the WebSocket leg's as HEPv3 (the upstream leg is the upstream's to trace: Kamailio's siptrace
 * sends its own). Secrets are masked before anything leaves: the HEP packet, the ring's read-out.
 */
export class SipCapture {
  readonly ring: CallRing;
  readonly #hep: HepSender | undefined;
  #seq = 0;

  constructor(options: SipCaptureOptions) {
    this.ring = new CallRing({ maxCalls: options.maxCalls, maxBytes: options.maxBytes });
    this.#hep = options.hep && new HepSender(options.hep.target, options.hep.captureAgentId, options.log);
  }

  /** The tap of one WebSocket flow. */
  flowTap(flow: FlowAddresses): FlowTap {
    const client: CaptureEndpoint = { ...flow.client, role: 'client' };
    const gateway: CaptureEndpoint = { ...flow.gateway, role: 'gateway' };
    return {
      received: (text) => this.#capture(text, flow.transport, client, gateway, true),
      sent: (text) => this.#capture(text, flow.transport, gateway, client, true),
    };
  }

  /**
   * A message on the upstream leg: `local` is this side's `host:port` (empty while not connected),
   * `peer` the upstream node.
   */
  upstream(
    direction: 'in' | 'out',
    data: Buffer | string,
    transport: CaptureTransport,
    local: string,
    peer: { host: string; port: number },
  ): void {
    const colon = local.lastIndexOf(':');
    const gateway: CaptureEndpoint = {
      ip: colon === -1 ? local : local.slice(0, colon).replace(/^\[|\]$/g, ''),
      port: colon === -1 ? 0 : Number(local.slice(colon + 1)),
      role: 'gateway',
    };
    const upstream: CaptureEndpoint = { ip: peer.host, port: peer.port, role: 'upstream' };
    if (direction === 'in') this.#capture(data, transport, upstream, gateway, false);
    else this.#capture(data, transport, gateway, upstream, false);
  }

  /** A party's quality report of a call (its MOS), shown beside the call. */
  qualityReported(callId: string, mos: number | undefined): void {
    if (mos !== undefined) this.ring.qualityReported(callId, mos);
  }

  close(): void {
    this.#hep?.close();
  }

  #capture(
    data: Buffer | string,
    transport: CaptureTransport,
    src: CaptureEndpoint,
    dst: CaptureEndpoint,
    toHep: boolean,
  ): void {
    const raw = typeof data === 'string' ? data : data.toString('utf8');
    if (raw.length <= 8 && KEEPALIVE.test(raw)) return;
    if (!startsAsSipMessage(raw)) return;
    const hep = toHep ? this.#hep : undefined;
    const callId = this.ring.keepsCalls ? readCallId(raw) : undefined;
    if (callId === undefined && !hep) return;
    const at = now();
    // Masked on its way out of the gateway: to the capture server here, from the ring when an
    // operator reads it (CallRing.get).
    if (hep) hep.send({ at, transport, src, dst, payload: Buffer.from(maskSecrets(raw)) });
    if (callId !== undefined) {
      const message: CapturedMessage = { seq: this.#seq + 1, at, transport, src, dst, text: raw };
      if (this.ring.record(message, callId)) this.#seq += 1;
    }
  }
}
