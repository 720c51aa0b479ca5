import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { header, headers, type SipMessage, type SipRequest } from '../../packages/gateway/src/sip/message.js';
import { parseSipMessage } from '../../packages/gateway/src/sip/parser.js';
import { digestAnswer } from '../../packages/gateway/test/support/digest-answer.mjs';

/** A SIP digest credential: an auth_ephemeral one (`expiry:user`) or a user's own. */
export interface Credential {
  username: string;
  password: string;
}

/** The parts of a request a test chooses; what it leaves out gets the default said here. */
export interface SipRequestOptions {
  /** From's URI (`authenticated` defaults it to the user's address; `request` needs one). */
  from?: string;
  /** From's tag (default: a random one). */
  fromTag?: string;
  /** To's URI (default: the Request-URI). */
  to?: string;
  /** To's tag (default: none). */
  toTag?: string;
  /** Default: a random Call-ID. */
  callId?: string;
  /** The CSeq number (default 1). */
  cseq?: number;
  /** Header lines added as they are; in `UdpSipPhone.request`, a `Contact:` among them replaces its own. */
  extra?: string[];
  /** Default: no body. */
  body?: string;
  /** No Contact at all (a REGISTER that only asks for the bindings, RFC 3261 §10.2.3). */
  withoutContact?: boolean;
}

/** How `UdpSipPhone.open` sets up a phone. */
export interface UdpSipPhoneOptions {
  /** The SIP domain: the user's address in `authenticated` is `sip:<user>@<domain>`. */
  domain: string;
  /** The loopback UDP port to bind (default 0: any free port). */
  port?: number;
  /** The final status it answers an incoming request with (default: 486 to an INVITE, 200 to anything else). */
  answer?: (request: SipRequest) => number;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * An endpoint's answer to a request it received: a To tag added when there is none and, when a
 * `contact` is given, Record-Route and that Contact on a 200 to an INVITE (a dialog established).
 */
export function responseTo(request: SipRequest, status: number, contact?: string): string {
  const to = header(request, 'To') ?? '';
  const established = contact !== undefined && request.method === 'INVITE' && status === 200;
  return [
    `SIP/2.0 ${status} ${status === 200 ? 'OK' : 'Busy Here'}`,
    ...headers(request, 'Via').map((via) => `Via: ${via}`),
    ...(established ? headers(request, 'Record-Route').map((rr) => `Record-Route: ${rr}`) : []),
    `From: ${header(request, 'From')}`,
    `To: ${/;\s*tag=/i.test(to) ? to : `${to};tag=${hex(4)}`}`,
    `Call-ID: ${header(request, 'Call-ID')}`,
    `CSeq: ${header(request, 'CSeq')}`,
    ...(established ? [`Contact: ${contact}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/**
 * A plain SIP phone on its own loopback UDP socket that talks to Kamailio directly: sends requests
 * and waits for their final answer (answering a digest challenge in `authenticated`), and answers
 * every request Kamailio sends it but an ACK (`answer`), keeping each one in `requests`.
 */
export class UdpSipPhone {
  /** Every request it received, in order. */
  readonly requests: SipRequest[] = [];
  /** The final status this phone answers an incoming request with. */
  answer: (request: SipRequest) => number;
  readonly #waiters: Array<{ match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];
  readonly #responses: SipMessage[] = [];
  /** The loopback UDP port it is bound to. */
  readonly port: number;

  private constructor(
    readonly socket: Socket,
    readonly kamailio: { host: string; port: number },
    readonly domain: string,
    answer: (request: SipRequest) => number,
  ) {
    this.answer = answer;
    this.port = socket.address().port;
    socket.on('message', (data) => {
      let message: SipMessage;
      try {
        message = parseSipMessage(data.toString());
      } catch {
        return;
      }
      if (message.kind === 'request') {
        this.requests.push(message);
        if (message.method !== 'ACK') this.send(responseTo(message, this.answer(message), this.contact));
      }
      const at = this.#waiters.findIndex((w) => w.match(message));
      if (at !== -1) this.#waiters.splice(at, 1)[0]?.resolve(message);
      else if (message.kind === 'response') this.#responses.push(message);
    });
  }

  /** A phone on 127.0.0.1 that sends to Kamailio's UDP `host:port`. */
  static async open(kamailio: string, options: UdpSipPhoneOptions): Promise<UdpSipPhone> {
    const [host, port] = kamailio.split(':') as [string, string];
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(options.port ?? 0, '127.0.0.1', resolve));
    return new UdpSipPhone(
      socket,
      { host, port: Number(port) },
      options.domain,
      options.answer ?? ((request) => (request.method === 'INVITE' ? 486 : 200)),
    );
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The Contact of its requests and of its 200 to an INVITE. */
  get contact(): string {
    return `<sip:ua@${this.address}>`;
  }

  send(text: string): void {
    this.socket.send(text, this.kamailio.port, this.kamailio.host);
  }

  /** A request as a plain SIP phone on this socket writes it. */
  request(method: string, uri: string, options: SipRequestOptions = {}): string {
    const body = options.body ?? '';
    const ownContact =
      !options.withoutContact && !(options.extra ?? []).some((line) => line.startsWith('Contact:'));
    const contact =
      ownContact && /^(INVITE|SUBSCRIBE|REGISTER)$/.test(method) ? [`Contact: ${this.contact}`] : [];
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address};branch=z9hG4bK${hex(8)};rport`,
      'Max-Forwards: 70',
      `From: <${options.from}>;tag=${options.fromTag ?? hex(4)}`,
      `To: <${options.to ?? uri}>${options.toTag ? `;tag=${options.toTag}` : ''}`,
      `Call-ID: ${options.callId ?? hex(8)}`,
      `CSeq: ${options.cseq ?? 1} ${method}`,
      ...contact,
      ...(options.extra ?? []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  /** The next final response to the request with this Call-ID and CSeq number. */
  finalResponse(callId: string, cseq: number, timeoutMs = 3000): Promise<SipMessage> {
    const match = (m: SipMessage) =>
      m.kind === 'response' &&
      m.status >= 200 &&
      header(m, 'Call-ID') === callId &&
      header(m, 'CSeq')?.split(' ')[0] === String(cseq);
    const already = this.#responses.findIndex(match);
    if (already !== -1) return Promise.resolve(this.#responses.splice(already, 1)[0] as SipMessage);
    return this.next(match, timeoutMs, `no final answer to ${callId} CSeq ${cseq}`);
  }

  /** The next message to arrive that matches; rejects with `failure` after `timeoutMs`. */
  next(match: (m: SipMessage) => boolean, timeoutMs: number, failure: string): Promise<SipMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(failure)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /**
   * Sends `method` as `user` (From, and To for a REGISTER, unless `options` say otherwise),
   * answers the challenge with `credential` and returns the final response. A final non-2xx
   * answer to an INVITE is acknowledged.
   */
  async authenticated(
    method: string,
    uri: string,
    user: string,
    credential: Credential,
    options: SipRequestOptions = {},
  ): Promise<SipMessage> {
    const from = options.from ?? `sip:${user}@${this.domain}`;
    const base = {
      ...options,
      from,
      ...(method === 'REGISTER' ? { to: options.to ?? from } : {}),
      callId: options.callId ?? `${method.toLowerCase()}-${hex(8)}`,
    };
    this.send(this.request(method, uri, { ...base, cseq: 1 }));
    const first = await this.finalResponse(base.callId, 1);
    if (first.kind !== 'response' || (first.status !== 401 && first.status !== 407))
      return this.#acked(method, first);
    const [challengeName, answerName] =
      first.status === 401
        ? ['WWW-Authenticate', 'Authorization']
        : ['Proxy-Authenticate', 'Proxy-Authorization'];
    const answer = digestAnswer(header(first, challengeName) as string, { method, uri }, credential);
    this.send(
      this.request(method, uri, {
        ...base,
        cseq: 2,
        extra: [...(options.extra ?? []), `${answerName}: ${answer}`],
      }),
    );
    return this.#acked(method, await this.finalResponse(base.callId, 2));
  }

  #acked(method: string, response: SipMessage): SipMessage {
    if (method === 'INVITE' && response.kind === 'response' && response.status >= 300) {
      const cseq = (header(response, 'CSeq') ?? '').split(' ')[0];
      this.send(
        [
          `ACK ${header(response, 'To')?.match(/<([^>]+)>/)?.[1]} SIP/2.0`,
          `Via: ${header(response, 'Via')}`,
          'Max-Forwards: 70',
          `From: ${header(response, 'From')}`,
          `To: ${header(response, 'To')}`,
          `Call-ID: ${header(response, 'Call-ID')}`,
          `CSeq: ${cseq} ACK`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
    }
    return response;
  }

  /**
   * Subscribes as `user` to the presence of `target` (a user of the domain); resolves with the
   * SUBSCRIBE's final status. The NOTIFYs arrive in `requests` (`presenceDocuments()`).
   */
  async watchPresence(target: string, user: string, credential: Credential): Promise<number> {
    const answer = await this.authenticated('SUBSCRIBE', `sip:${target}@${this.domain}`, user, credential, {
      extra: ['Event: presence', 'Accept: application/pidf+xml', 'Expires: 600'],
    });
    return answer.kind === 'response' ? answer.status : 0;
  }

  /** The bodies of the NOTIFYs received so far, in order. */
  presenceDocuments(): string[] {
    return this.requests.filter((r) => r.method === 'NOTIFY').map((r) => r.body);
  }

  /**
   * The contacts the registrar holds for `user`: a REGISTER without Contact (a query, RFC 3261
   * §10.2.3) as that user, answered with every binding of the address.
   */
  async bindings(user: string, credential: Credential): Promise<string[]> {
    const answer = await this.authenticated('REGISTER', `sip:${this.domain}`, user, credential, {
      withoutContact: true,
    });
    if (answer.kind !== 'response' || answer.status !== 200)
      throw new Error(
        `the registrar answered ${answer.kind === 'response' ? answer.status : '?'} to a query`,
      );
    return headers(answer, 'Contact');
  }

  /** Whether a request of `method` arrived here (after a moment for one in flight). */
  async got(method: string): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return this.requests.some((r) => r.method === method);
  }

  close(): void {
    this.socket.close();
  }
}
