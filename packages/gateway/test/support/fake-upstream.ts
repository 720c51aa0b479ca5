import { createSocket, type RemoteInfo } from 'node:dgram';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parser.js';
import { createResponse } from '../../src/sip/responses.js';
import { serializeSipMessage } from '../../src/sip/serializer.js';

export interface Received<M extends SipMessage = SipMessage> {
  message: M;
  from: RemoteInfo;
}

/**
 * An upstream SIP server on a loopback UDP port that a test drives by hand: it answers the
 * relay's keep-alives (so the gateway comes up), keeps every other datagram it hears, in order,
 * and sends whatever the test tells it to. Losing a datagram is simply not answering it.
 */
export class FakeUpstream {
  readonly #socket = createSocket('udp4');
  readonly #received: Received[] = [];
  readonly #wake: Array<() => void> = [];
  /** Where the relay's upstream side listens: the source of its keep-alives. */
  #relay: RemoteInfo | undefined;

  private constructor() {
    this.#socket.on('message', (data, from) => {
      const message = parseSipMessage(data);
      if (message.kind === 'request' && message.method === 'OPTIONS') {
        this.#relay = from;
        this.#socket.send(serializeSipMessage(createResponse(message, 200)), from.port, from.address);
        return;
      }
      this.#received.push({ message, from });
      for (const wake of this.#wake.splice(0)) wake();
    });
  }

  static async start(): Promise<FakeUpstream> {
    const upstream = new FakeUpstream();
    await new Promise<void>((resolve) => upstream.#socket.bind(0, '127.0.0.1', resolve));
    return upstream;
  }

  /** `127.0.0.1:port`, for UPSTREAM. */
  get address(): string {
    return `127.0.0.1:${this.#socket.address().port}`;
  }

  /** Takes the next request of `method` heard (already or still to come) that matches. */
  async request(
    method: string,
    match: (request: SipRequest) => boolean = () => true,
    timeoutMs = 4000,
  ): Promise<Received<SipRequest>> {
    const taken = await this.#take(
      (m) => m.kind === 'request' && m.method === method && match(m),
      timeoutMs,
      `${method} request`,
    );
    return taken as Received<SipRequest>;
  }

  /** Takes the next response heard (already or still to come) that matches. */
  async response(match: (response: SipResponse) => boolean, timeoutMs = 4000): Promise<SipResponse> {
    const taken = await this.#take((m) => m.kind === 'response' && match(m), timeoutMs, 'response');
    return taken.message as SipResponse;
  }

  /** Forgets what was heard so far of `method`: what `request` takes next was sent after this. */
  discard(method: string): void {
    for (let i = this.#received.length - 1; i >= 0; i--) {
      const { message } = this.#received[i] as Received;
      if (message.kind === 'request' && message.method === method) this.#received.splice(i, 1);
    }
  }

  /** Answers a request where it came from. */
  respond(to: Received<SipRequest>, response: SipResponse): void {
    this.#socket.send(serializeSipMessage(response), to.from.port, to.from.address);
  }

  /** Sends a request (or raw SIP text) to the relay's upstream side. */
  send(message: SipMessage | string): void {
    const relay = this.#relay;
    if (!relay) throw new Error('the relay has not sent a keep-alive yet: its address is unknown');
    const bytes = typeof message === 'string' ? message : serializeSipMessage(message);
    this.#socket.send(bytes, relay.port, relay.address);
  }

  close(): void {
    this.#socket.close();
    for (const wake of this.#wake.splice(0)) wake();
  }

  async #take(match: (m: SipMessage) => boolean, timeoutMs: number, what: string): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.#received.findIndex((r) => match(r.message));
      if (at !== -1) return this.#received.splice(at, 1)[0] as Received;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the upstream heard no matching ${what} in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
