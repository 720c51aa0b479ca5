import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { SipMessage } from '../../src/sip/message.js';
import { header } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parser.js';
import { digestAnswer } from './digest-answer.mjs';

/**
 * A bare SIP-over-WebSocket client for tests that need to send exactly the bytes they mean:
 * malformed messages, odd headers, requests a real user agent would never send.
 */
export class RawSipClient {
  readonly received: SipMessage[] = [];
  readonly #waiters: Array<{ match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly rawFrames: string[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const text = data.toString();
      this.rawFrames.push(text);
      if (/^\s*$/.test(text)) return;
      let message: SipMessage;
      try {
        message = parseSipMessage(text);
      } catch (error) {
        console.error('unparseable frame from the gateway', text, error);
        return;
      }
      this.received.push(message);
      const at = this.#waiters.findIndex((w) => w.match(message));
      if (at !== -1) this.#waiters.splice(at, 1)[0]?.resolve(message);
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static connect(
    url: string,
    protocols: string[] = ['sip'],
    headers: Record<string, string> = {},
    /** For `wss://`: the CA (PEM) that signed the gateway's certificate. */
    tls: { ca?: string } = {},
  ): Promise<RawSipClient> {
    const socket = new WebSocket(url, protocols, { headers, ...tls });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new RawSipClient(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`handshake refused: ${res.statusCode}`)),
      );
    });
  }

  send(text: string): void {
    this.socket.send(text);
  }

  /** The next message (already received or still to come) that matches. */
  next(match: (m: SipMessage) => boolean = () => true, timeoutMs = 3000): Promise<SipMessage> {
    const already = this.received.findIndex(match);
    if (already !== -1) return Promise.resolve(this.received.splice(already, 1)[0] as SipMessage);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching SIP message in time')), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  response(status: number, timeoutMs?: number): Promise<SipMessage> {
    return this.next((m) => m.kind === 'response' && m.status === status, timeoutMs);
  }

  close(): void {
    this.socket.close();
  }
}

/** A request as a WS client would write it; `overrides` replace or add header lines. */
export function sipRequest(
  method: string,
  uri: string,
  options: {
    from?: string;
    toTag?: string;
    to?: string;
    callId?: string;
    cseq?: number;
    extra?: string[];
    body?: string;
    omit?: string[];
  } = {},
): string {
  const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
  const lines = [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/WS raw.invalid;branch=${branch}`,
    'Max-Forwards: 70',
    `From: <${options.from ?? 'sip:alice@ringway.test'}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <${options.to ?? uri}>${options.toTag ? `;tag=${options.toTag}` : ''}`,
    `Call-ID: ${options.callId ?? randomBytes(8).toString('hex')}`,
    `CSeq: ${options.cseq ?? 1} ${method}`,
    ...(options.extra ?? []),
  ].filter((line) => !(options.omit ?? []).some((name) => line.startsWith(`${name}:`)));
  const body = options.body ?? '';
  return `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * A raw client that registered as `user` with its password (answering the digest challenge), so
 * that its connection is that user's.
 */
export async function registeredRawClient(
  client: RawSipClient,
  user: string,
  password: string,
  contact = `<sip:${user}-raw@raw.invalid;transport=ws>`,
): Promise<RawSipClient> {
  const base = {
    from: `sip:${user}@ringway.test`,
    to: `sip:${user}@ringway.test`,
    callId: `reg-${user}-${Date.now()}`,
  };
  client.send(sipRequest('REGISTER', 'sip:ringway.test', { ...base, extra: [`Contact: ${contact}`] }));
  const challenge = await client.response(401);
  const authorization = digestAnswer(
    header(challenge, 'WWW-Authenticate') as string,
    { method: 'REGISTER', uri: 'sip:ringway.test' },
    { username: user, password },
  );
  client.send(
    sipRequest('REGISTER', 'sip:ringway.test', {
      ...base,
      cseq: 2,
      extra: [`Contact: ${contact}`, `Authorization: ${authorization}`],
    }),
  );
  await client.response(200);
  return client;
}
