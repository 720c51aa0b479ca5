import { resolvePolicy } from '@ringway/sdp';
import type { PasswordGuesses } from '../accounts/password-guesses.js';
import type { CallTokens } from '../calls/call-tokens.js';
import type { GatewayConfig } from '../config/config-schema.js';
import type { KeyPurpose } from '../config/server-keys.js';
import { codecLabel, methodLabel, statusLabel } from '../metric-labels.js';
import type { GatewayMetrics } from '../metrics.js';
import { parseUri, type SipUri } from './address.js';
import type { CredentialSource } from './auth/credentials.js';
import { DigestAuthenticator } from './auth/digest.js';
import { AGENT } from './dialog-rules.js';
import { withoutUntrustedHeaders } from './edge-headers.js';
import type { Flow } from './flow.js';
import { FlowTable } from './flow-table.js';
import type { Logger } from './logger.js';
import { MediaPolicy } from './media-policy.js';
import {
  detached,
  header,
  type SipHeaderField,
  type SipMessage,
  type SipRequest,
  withFirstHeader,
} from './message.js';
import { SipParseError } from './parse-error.js';
import { parseSipMessage } from './parser.js';
import { NOTIFY_BRANCH_PREFIX, Notifier } from './presence/notifier.js';
import { PresenceBook } from './presence/presence-book.js';
import { DialogTokens } from './proxy/dialog-token.js';
import { type CallEvent, ProxyCore } from './proxy/proxy-core.js';
import { TokenBucket } from './rate-limiter.js';
import { LocationService } from './registrar/location-service.js';
import { Registrar } from './registrar/registrar.js';
import { RequestAdmission } from './request-admission.js';
import { createResponse, warning } from './responses.js';
import { serializeSipMessage } from './serializer.js';
import { UPSTREAM_BRANCH_PREFIX, type UpstreamRelay } from './upstream/upstream-relay.js';
import { formatVia, parseVia, viaParam, withSource } from './via.js';

/** RFC 5626 §3.5.1: a client pings with CRLFCRLF, the server pongs with CRLF. */
const KEEPALIVE_PING = /^(\r\n)+$/;
interface FlowState {
  flow: Flow;
  bucket: TokenBucket;
  /** Malformed messages from this flow so far, so that their log lines can be sampled. */
  malformed: number;
}

/** Malformed messages of one flow that are logged one by one; after that, one line in LOG_EVERY. */
const MALFORMED_LOGGED = 3;
const MALFORMED_LOG_EVERY = 1000;

/**
 * The SIP side of the gateway: takes frames from flows, parses them, applies limits and
 * authentication, and hands requests to the registrar or the proxy core.
 */
export class SipServer {
  readonly flows = new FlowTable();
  readonly location: LocationService;
  readonly proxy: ProxyCore;
  readonly #registrar: Registrar;
  /** The presence agent for the registrar's users (RFC 3856, RFC 4235). */
  readonly #notifier: Notifier;
  /** Who may send what (authentication, dialog tokens, the guests' rule). */
  readonly #admission: RequestAdmission;
  readonly #states = new Map<string, FlowState>();
  readonly #localHosts: Set<string>;
  #port: number;
  #sentBy: string;

  constructor(
    private readonly config: GatewayConfig,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
    services: {
      /** The gateway's signing keys (config/server-keys.ts). */
      keys: (purpose: KeyPurpose) => Buffer;
      /** Who may sign in (AUTH_SECRET, USERS_FILE); undefined in anonymous mode. */
      credentials: CredentialSource | undefined;
      /** Hands each party of a call its quality-report token. */
      callTokens: CallTokens;
      /** Wrong passwords of this gateway, counted with the sign-in form's (sign-in-api.ts). */
      guesses: PasswordGuesses;
      observeCall?: (event: CallEvent) => void;
    },
  ) {
    const domain = config.sipDomain.toLowerCase();
    const book = new PresenceBook({
      online: (user) => this.location.lookup(`sip:${user}@${domain}`).length > 0,
      changed: (user) => this.#notifier.changed(user),
    });
    this.location = new LocationService(
      (count) => metrics.bindings.set(count),
      (aor) => {
        const uri = parseUri(aor);
        if (uri?.user !== undefined && uri.host === domain) book.registrationChanged(uri.user);
      },
    );
    this.#notifier = new Notifier({
      book,
      domain: config.sipDomain,
      sentBy: () => this.#sentBy,
      log,
      counted: (count) => metrics.subscriptions.set(count),
    });
    this.#registrar = new Registrar(this.location, config);
    const { keys, credentials } = services;
    const authenticator =
      credentials &&
      new DigestAuthenticator(
        config.sipDomain,
        credentials,
        keys('digest-nonce'),
        Date.now,
        services.guesses,
      );
    const dialogs = credentials && new DialogTokens(keys('dialog-route'));
    this.#localHosts = new Set(
      [config.sipDomain, config.advertisedHost, config.host].map((h) => h.toLowerCase()),
    );
    this.#port = config.port;
    this.#sentBy = `${config.advertisedHost}:${config.port}`;
    this.#admission = new RequestAdmission({
      authenticator,
      dialogs,
      flows: this.flows,
      isOwnRoute: (uri) => this.#isOwnRoute(uri),
      metrics,
      log,
    });
    const knownUsers = new Set(credentials ? [...credentials.knownUsers()] : []);
    this.proxy = new ProxyCore({
      flows: this.flows,
      location: this.location,
      identity: {
        sentBy: () => this.#sentBy,
        isOwnRoute: (uri) => this.#isOwnRoute(uri),
        isOurDomain: (host) => this.#localHosts.has(host.toLowerCase()),
      },
      dialogTokens: dialogs,
      timers: { transactionMs: config.timers.transactionMs, inviteMs: config.timers.inviteMs },
      log,
      events: {
        callCompleted: (status, callId, setupMs) => {
          metrics.calls.inc({ status: statusLabel(status) });
          log.info({ callId, status, setupMs }, 'call attempt ended');
        },
        transactionsChanged: (count) => metrics.transactions.set(count),
        callEvent: (event) => {
          book.callEvent(event);
          services.observeCall?.(event);
        },
      },
      callTokens: services.callTokens,
      knownUsers,
      media: this.mediaPolicy('browser'),
    });
  }

  /** The codec policy of a route (`browser`, `upstream`), counting and logging what it negotiates. */
  mediaPolicy(route: keyof GatewayConfig['codecPolicies']): MediaPolicy {
    return new MediaPolicy(resolvePolicy(this.config.codecPolicies[route]), this.log, (codec, callId) => {
      this.metrics.codecs.inc({ codec: codecLabel(codec) });
      this.log.info({ callId, codec, route }, 'codec negotiated');
    });
  }

  /** Upstream mode: requests go to the upstream server instead of the registrar and proxy. */
  upstream: UpstreamRelay | undefined;

  /** Called once the listening port is known (it may be 0 in configuration). */
  setListeningPort(port: number): void {
    this.#port = port;
    this.#sentBy = `${this.config.advertisedHost}:${port}`;
  }

  attach(flow: Flow): void {
    this.flows.add(flow);
    const { messagesPerSecond, messageBurst } = this.config.limits;
    this.#states.set(flow.id, {
      flow,
      bucket: new TokenBucket(messagesPerSecond, messageBurst),
      malformed: 0,
    });
    this.metrics.connections.set(this.flows.size);
  }

  detach(flowId: string): void {
    if (!this.#states.delete(flowId)) return;
    const removed = this.location.removeFlow(flowId);
    this.flows.remove(flowId);
    this.proxy.flowClosed(flowId);
    this.#notifier.flowClosed(flowId);
    this.metrics.connections.set(this.flows.size);
    this.log.debug({ flowId, bindingsRemoved: removed }, 'flow closed');
  }

  receive(flowId: string, data: Buffer | string): void {
    const state = this.#states.get(flowId);
    if (!state) return;
    const { flow } = state;
    if (data.length <= 8 && KEEPALIVE_PING.test(data.toString())) {
      flow.send('\r\n');
      return;
    }
    const started = process.hrtime.bigint();
    let message: SipMessage;
    try {
      message = withoutUntrustedHeaders(parseSipMessage(data));
    } catch (error) {
      // Garbage costs the sender its rate like anything else, or it would be the cheap way in.
      if (this.#withinRate(state, undefined)) this.#malformed(state, error);
      return;
    }
    if (message.kind === 'request' && !this.#withinRate(state, message)) return;
    try {
      if (message.kind === 'request') this.#onRequest(flow, message);
      else if (this.upstream && answersBranch(message, UPSTREAM_BRANCH_PREFIX)) {
        this.upstream.responseFromClient(message);
      } else if (answersBranch(message, NOTIFY_BRANCH_PREFIX)) {
        this.#notifier.response(message);
      } else {
        // A response comes from the flow a request was sent to: an AoR's binding or a contact
        // its owner sent, so the flow's proven user speaks for it.
        if (!this.#admission.required || flow.authenticatedUser !== undefined)
          this.flows.learnContacts(flow, message, flow.authenticatedUser);
        this.proxy.handleResponse(message, flow);
      }
    } catch (error) {
      // A bug must cost one message, never the process or the other clients' calls.
      this.metrics.internalErrors.inc();
      this.log.error({ err: error, callId: header(message, 'Call-ID') }, 'failed to handle SIP message');
      if (message.kind === 'request' && message.method !== 'ACK')
        this.#reply(flow, message, 500, 'internal error');
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics.handling.observe(
      { kind: message.kind === 'request' ? methodLabel(message.method) : 'response' },
      seconds,
    );
  }

  /**
   * Takes one message from the flow's allowance; past it, a request gets 503 + Retry-After, and a
   * flow far past it is closed.
   */
  #withinRate({ flow, bucket }: FlowState, request: SipRequest | undefined): boolean {
    if (bucket.take()) return true;
    this.metrics.rejected.inc({ reason: 'rate' });
    if (bucket.exhausted) {
      this.log.warn(
        { flowId: flow.id, remote: flow.remoteAddress },
        'flow far over its message rate; closing',
      );
      flow.close(1008, 'message rate exceeded');
    } else if (request && request.method !== 'ACK') {
      this.#reply(flow, request, 503, 'message rate exceeded', [{ name: 'Retry-After', value: '1' }]);
    }
    return false;
  }

  close(): void {
    this.proxy.close();
    this.#notifier.close();
    this.location.clear();
  }

  #onRequest(flow: Flow, received: SipRequest): void {
    const via = parseVia(header(received, 'Via') as string);
    if (!via) return this.#reply(flow, received, 400, 'malformed Via');
    const request = withFirstHeader(
      received,
      'Via',
      formatVia(withSource(via, flow.remoteAddress, flow.remotePort)),
    );
    const callId = header(request, 'Call-ID');
    this.log.debug({ callId, method: request.method, uri: request.uri, flowId: flow.id }, 'request in');

    if (this.upstream) return this.upstream.fromClient(request, flow);
    (this.#methods[request.method] ?? this.#proxied).call(this, flow, request);
  }

  /**
   * Where a client's request goes in embedded mode, by method (drachtio-srf's way): REGISTER to
   * the registrar, SUBSCRIBE to the notifier when it is for one of the domain's users, everything
   * else to the proxy. Who may send it is decided in request-admission.ts, for all of them.
   */
  readonly #methods: Readonly<Record<string, (this: SipServer, flow: Flow, request: SipRequest) => void>> = {
    REGISTER: this.#onRegister,
    SUBSCRIBE: this.#onSubscribe,
  };

  #onSubscribe(flow: Flow, request: SipRequest): void {
    // Inside a subscription the notifier made (no Route: it does not record-route), or none:
    // the notifier answers both, the latter with 481.
    if (this.#notifier.ownsDialog(request) || this.#notifier.addressedInDialog(request))
      return this.#notifier.resubscribe(request, flow);
    if (!this.#notifier.serves(request)) return this.#proxied(flow, request);
    if (this.#admission.watcher(flow, request)) this.#notifier.subscribe(request, flow);
  }

  #proxied(flow: Flow, request: SipRequest): void {
    const admission = this.#admission.admit(flow, request);
    if (!admission) return;
    if (!this.#admission.required || admission.sender !== undefined)
      this.flows.learnContacts(flow, request, admission.sender);
    this.proxy.handleRequest(request, flow, admission.scope);
  }

  /**
   * Ends the connections of users whose credentials were revoked (removed from USERS_FILE, added
   * again, a new password): their bindings go with them, and a reconnecting client must sign in
   * again, as its old credential is refused from now on (credentials.ts).
   */
  endUsers(users: readonly string[]): void {
    const ended = new Set(users);
    for (const flow of this.flows.all()) {
      if (flow.authenticatedUser === undefined || !ended.has(flow.authenticatedUser)) continue;
      this.log.info(
        { flowId: flow.id, user: flow.authenticatedUser },
        'credentials revoked; closing the connection',
      );
      flow.close(1008, 'credentials revoked');
    }
  }

  /** A Route or Record-Route URI naming this gateway: one of its hosts, and its port if one is given. */
  #isOwnRoute(uri: SipUri): boolean {
    return this.#localHosts.has(uri.host) && (uri.port === undefined || uri.port === this.#port);
  }

  #onRegister(flow: Flow, request: SipRequest): void {
    const user = this.#admission.registrant(flow, request);
    if (user === false) return;
    const bindingsBefore = this.location.size;
    const response = this.#registrar.register({ request, flow, user, now: Date.now() });
    if (response.status === 200) {
      if (user !== undefined) flow.authenticatedUser = detached(user);
      this.flows.learnContacts(flow, request, user);
    }
    // Bindings added or removed, and refusals, at info; refreshes (most REGISTERs, every few
    // minutes from every phone) at debug, as Kamailio's registrar logs nothing for them.
    const change = Math.sign(this.location.size - bindingsBefore);
    const routine = response.status === 200 ? change === 0 : response.status === 401;
    (routine ? this.log.debug : this.log.info).call(
      this.log,
      {
        callId: header(request, 'Call-ID'),
        status: response.status,
        aor: header(request, 'To'),
        flowId: flow.id,
      },
      change > 0 ? 'REGISTER: binding added' : change < 0 ? 'REGISTER: binding removed' : 'REGISTER',
    );
    this.#sendMessage(flow, response);
  }

  #malformed(state: FlowState, error: unknown): void {
    const { flow } = state;
    this.metrics.parseErrors.inc();
    if (!(error instanceof SipParseError)) {
      this.log.error({ err: error, flowId: flow.id }, 'SIP parser failed');
      return;
    }
    const partial = error.partial;
    const callId = partial?.headers.find((h) => h.name === 'Call-ID')?.value;
    const answerable =
      partial !== undefined &&
      partial.method !== 'ACK' &&
      ['Via', 'From', 'To', 'Call-ID', 'CSeq'].every((name) => partial.headers.some((h) => h.name === name));
    state.malformed += 1;
    if (state.malformed <= MALFORMED_LOGGED || state.malformed % MALFORMED_LOG_EVERY === 0) {
      this.log.warn(
        { flowId: flow.id, callId, problem: error.warning, answered: answerable, count: state.malformed },
        'malformed SIP message',
      );
    }
    if (answerable)
      this.#sendMessage(flow, createResponse(partial, error.status, [warning(AGENT, error.warning)]));
  }

  #reply(flow: Flow, request: SipRequest, status: number, text: string, extra: SipHeaderField[] = []): void {
    this.#sendMessage(flow, createResponse(request, status, [warning(AGENT, text), ...extra]));
  }

  #sendMessage(flow: Flow, message: SipMessage): void {
    flow.send(serializeSipMessage(message));
  }
}

/**
 * Whether a response answers a request the gateway itself sent from a component whose branches
 * begin with `prefix` (the upstream relay, the notifier), rather than one the proxy forwarded.
 */
function answersBranch(response: SipMessage, prefix: string): boolean {
  const via = parseVia(header(response, 'Via') ?? '');
  return (via && viaParam(via, 'branch'))?.startsWith(prefix) ?? false;
}
