import { createHash } from 'node:crypto';
import type { CallTokens } from '../../calls/call-tokens.js';
import { guestRefusal } from '../../sessions/guest-scope.js';
import { type NameAddr, parseNameAddr, parseUri } from '../address.js';
import { credentialUser, type Revocation } from '../auth/credentials.js';
import { parseDigestParams } from '../auth/digest.js';
import { AGENT, DIALOG_CREATING, isInitial } from '../dialog-rules.js';
import type { Flow } from '../flow.js';
import type { FlowTable } from '../flow-table.js';
import type { Logger } from '../logger.js';
import { type MediaPolicy, refusalResponse } from '../media-policy.js';
import {
  detached,
  header,
  headers,
  retainedRequest,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  withHeader,
  withHeaderPrepended,
  withoutFirstHeader,
} from '../message.js';
import { asksForOutbound, supportedTags } from '../outbound.js';
import { SipParseError } from '../parse-error.js';
import { parseSipMessage } from '../parser.js';
import { MAGIC_COOKIE } from '../proxy/branch-id.js';
import { type CallEvent, callEvent } from '../proxy/call-events.js';
import { DIALOG_TOKEN_PARAM, type DialogTokens } from '../proxy/dialog-token.js';
import { createResponse, cseqMethod, warning } from '../responses.js';
import { serializeSipMessage } from '../serializer.js';
import { subscriptionRefusal } from '../subscription-rules.js';
import { parseVia, viaParam } from '../via.js';
import { forwardedMaxForwards } from './max-forwards.js';
import type { SiblingWorkers } from './sibling-workers.js';
import { TransactionMemory } from './transaction-memory.js';
import { T1_MS, transactionKey, UdpRetransmissions } from './udp-retransmissions.js';
import { ClosedFlowUnregistrar, type UnregisterOptions } from './unregister-on-close.js';
import type { UpstreamTarget, UpstreamTransportName } from './upstream-target.js';
import { createUpstreamTransport, type UpstreamLocal, type UpstreamTransport } from './upstream-transport.js';

/** Branches of the requests the relay passes to clients, so that their answers come back here. */
export const UPSTREAM_BRANCH_PREFIX = `${MAGIC_COOKIE}.up.`;

/** RFC 5626 §11.6: 430 Flow Failed, when the client's connection is gone. */
const FLOW_FAILED = 430;

export interface UpstreamOptions {
  /** Upstream SIP server (an IP literal: no DNS), port and transport. */
  /** The upstream's nodes, tried in order (several over UDP only). */
  targets: readonly [UpstreamTarget, ...UpstreamTarget[]];
  /** Address (and port, 0 for any) of this gateway's upstream side, written in Via, Path and Record-Route. */
  local: UpstreamLocal;
  maxMessageBytes: number;
  /** WebSocket-side host:port written in Via toward clients. */
  sentBy: () => string;
  flows: FlowTable;
  log: Logger;
  /** Reports whether the upstream answers (OPTIONS every `keepAliveMs`). */
  onHealth: (up: boolean) => void;
  keepAliveMs?: number;
  /** The `upstream` codec policy, applied to SDP crossing the relay in either direction. */
  media?: MediaPolicy;
  /** An INVITE went through the relay (a call beginning or going on, either way), by its Call-ID. */
  onInvite?: (callId: string) => void;
  /**
   * The calls of this gateway's clients as they pass: `invite` when a client's initial INVITE
   * goes up, `answered` or `rejected` when its final answer comes back, `bye` when a client hangs
   * up (rendezvous sessions follow their call with these, as with the embedded proxy's).
   */
  observeCall?: (event: CallEvent) => void;
  /** Hands each client party of a call its quality-report token. */
  callTokens?: CallTokens;
  /**
   * How long the relay keeps what it needs of a transaction in flight (the offer, the REGISTER):
   * `transactionMs` for a non-INVITE (Timer F, 64·T1) and after an INVITE's 2xx, which may come
   * again until the ACK (Timer L of RFC 6026); `inviteMs` for an INVITE from the request and again
   * after each provisional (Timer C, RFC 3261 §16.6 step 11, §16.7 step 2). The gateway's
   * `timers` fit. Default 64·T1 = 32 s and 180 s.
   */
  timers?: { transactionMs: number; inviteMs: number };
  /**
   * Signs the dialogs this relay record-routes, and then admits a client's in-dialog request only
   * with a valid token and from the user its REGISTER proved (the upstream authenticated it).
   * Undefined in anonymous mode, where nobody proves anything.
   */
  dialogTokens?: DialogTokens;
  /**
   * Credentials that no longer speak for their user (USERS_FILE revocation, credentials.ts): a
   * request carrying one is refused here, as the upstream cannot know.
   */
  revoked?: Revocation;
  /** The gateway's other workers (WORKERS > 1), whose dialogs and clients this one can take. */
  siblings?: SiblingWorkers;
  /**
   * The upstream sides (`ip:port`) of the deployment's other gateways (PEER_GATEWAYS): a dialog
   * they record-routed is taken over here when its client comes back through this gateway.
   */
  peers?: ReadonlySet<string>;
  /**
   * Unregister a closed flow's contacts upstream (unregister-on-close.ts): given when the upstream
   * authenticates with auth_ephemeral on AUTH_SECRET (Ringway's Kamailio), so that the gateway can
   * answer its challenge. Without it, a closed page stays registered until its binding expires.
   */
  unregister?: UnregisterOptions;
  /**
   * Sees every message of the upstream leg as it is sent (`out`) or received (`in`): the SIP
   * capture's (sip-capture/), for the operator's ladder. `local` is this side's `host:port`, `peer`
   * the upstream node.
   */
  capture?: UpstreamCapture;
}

export type UpstreamCapture = (
  direction: 'in' | 'out',
  data: Buffer | string,
  transport: UpstreamTransportName,
  local: string,
  peer: { host: string; port: number },
) => void;

/**
 * Transactions kept at once, a bound against floods only (transaction-memory.ts): 20,000 INVITEs
 * ringing for Timer C's 180 s each is over 100 new calls a second, both ways together; an offer
 * kept is a few kilobytes, a REGISTER a few hundred bytes.
 */
const MAX_PENDING_OFFERS = 20_000;
const MAX_PENDING_REGISTERS = 50_000;
const DEFAULT_TIMERS = { transactionMs: 64 * T1_MS, inviteMs: 180_000 };

/** What the relay keeps of a request in flight: the offer for the policy, the REGISTER's Contacts. */
const OFFER_KEPT = { headers: new Set(['Content-Type', 'Call-ID']), body: true };
const REGISTER_KEPT = {
  headers: new Set(['To', 'Contact', 'Authorization', 'Call-ID', 'CSeq', 'Expires']),
};
const OFFER_ANSWER_METHODS = new Set(['INVITE', 'UPDATE']);
/** What the relay keeps of a client's initial INVITE until its final answer: who calls whom. */
const CALL_KEPT = { headers: new Set(['From', 'To', 'Call-ID']) };

/** Where a response goes by its top Via: `received` and `rport` when the sender stamped them. */
function viaSender(response: SipResponse): { host: string; port: number } | undefined {
  const via = parseVia(header(response, 'Via') ?? '');
  if (!via) return undefined;
  const rport = Number(viaParam(via, 'rport'));
  return {
    host: viaParam(via, 'received') ?? via.host,
    port: Number.isInteger(rport) && rport > 0 ? rport : (via.port ?? 5060),
  };
}

function describeTarget({ transport, host, port }: UpstreamTarget): string {
  return `${transport.toLowerCase()}:${host}:${port}`;
}

function hash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

function topBranch(message: SipMessage): string {
  const via = parseVia(header(message, 'Via') ?? '');
  return (via && viaParam(via, 'branch')) ?? '';
}

/**
 * Upstream mode (RFC 7118 §5 edge proxy in front of a registrar such as Kamailio): every
 * client request goes to the upstream (over UDP, TCP or a WebSocket) with a Path (RFC 3327) or
 * Record-Route that carries the client's flow token (RFC 5626), so that the upstream's requests
 * come back here and find the right WebSocket. Stateless in both directions (but for retransmitting
 * onto UDP, udp-retransmissions.ts, and for the offers of the codec policy and the REGISTERs not yet
 * answered, kept for their transaction's lifetime, transaction-memory.ts): the branch this relay
 * writes names the flow, and is derived from the incoming one so that retransmissions and CANCEL
 * follow their INVITE (a CANCEL's own transaction is its branch and its method).
 */
export class UpstreamRelay {
  readonly #transport: UpstreamTransport;
  #up = false;
  #closed = false;
  #keepAlive: NodeJS.Timeout | undefined;
  #pingCSeq = 0;
  #lastPong = 0;
  /** When the node in use became so (start-up, or the last failover). */
  #nodeSince = Date.now();
  /**
   * What each INVITE/UPDATE in flight carried, by the transaction this relay wrote (branch and
   * method): the codec policy needs the offer to keep the answer within it.
   */
  readonly #inFlight: TransactionMemory<SipRequest>;
  /**
   * REGISTERs passed on and not yet answered, by the transaction we wrote: their Contacts are
   * learned only once the upstream has accepted them (it authenticated the client; we did not).
   */
  readonly #registering: TransactionMemory<SipRequest>;
  /** Clients' initial INVITEs not yet answered, by the transaction we wrote (observeCall). */
  readonly #callsSettingUp: TransactionMemory<SipRequest>;
  readonly #timers: { transactionMs: number; inviteMs: number };
  /** Over UDP only: requests of WebSocket clients are sent again until answered. */
  readonly #retransmissions: UdpRetransmissions | undefined;
  /** Unregisters closed flows' contacts upstream, when `unregister` is configured. */
  readonly #unregistrar: ClosedFlowUnregistrar | undefined;

  constructor(private readonly options: UpstreamOptions) {
    const { capture } = options;
    this.#transport = createUpstreamTransport(
      options.targets,
      options.local,
      options.maxMessageBytes,
      {
        message: (data) => {
          const transport = this.#transport;
          capture?.('in', data, transport.name, transport.local, transport.target);
          this.#fromUpstream(data);
        },
        // Up once a keep-alive is answered on the new connection; down at once when it is lost.
        connected: () => this.#ping(),
        disconnected: () => this.#setUp(false),
      },
      options.log,
    );
    if (capture) {
      // Every sender (relay, retransmissions, keep-alives, unregistrations) goes through send.
      const transport = this.#transport;
      const send = transport.send.bind(transport);
      transport.send = (message, node) => {
        capture('out', message, transport.name, transport.local, node ?? transport.target);
        send(message, node);
      };
    }
    this.#timers = options.timers ?? DEFAULT_TIMERS;
    this.#inFlight = new TransactionMemory({
      name: 'offers',
      maxEntries: MAX_PENDING_OFFERS,
      log: options.log,
    });
    this.#registering = new TransactionMemory({
      name: 'registrations',
      maxEntries: MAX_PENDING_REGISTERS,
      log: options.log,
    });
    this.#callsSettingUp = new TransactionMemory({
      name: 'calls',
      maxEntries: MAX_PENDING_OFFERS,
      log: options.log,
    });
    if (options.targets[0].transport === 'UDP')
      this.#retransmissions = new UdpRetransmissions((bytes) => this.#transport.send(bytes));
    options.siblings?.onHandedOver((request, hops) => this.#handedOver(request, hops));
    if (options.unregister) {
      const unregistrar = new ClosedFlowUnregistrar(options.unregister, {
        send: (request, branch) => {
          const bytes = serializeSipMessage(request);
          this.#transport.send(bytes);
          this.#retransmissions?.start(branch, 'REGISTER', bytes);
        },
        stop: (branch) => this.#retransmissions?.answered(branch, 'REGISTER'),
        via: () => this.#viaSentBy(),
        log: options.log,
      });
      this.#unregistrar = unregistrar;
      const { flows } = options;
      flows.onRemove((flowId) => {
        // Nothing is sent once the relay is closed (the gateway stopping) or the upstream is down,
        // nor for a connection lost rather than left: its client comes back, maybe through another
        // worker or gateway, with a new registration that an unregister would remove.
        if (!this.#up || this.#closed || !flows.get(flowId)?.wentAway) return unregistrar.forget(flowId);
        unregistrar.flowClosed(flowId, (user, host) => flows.contact(user, host)?.flow.id === flowId);
      });
    }
  }

  get up(): boolean {
    return this.#up;
  }

  /** The upstream node in use (`udp:ip:port`): the first of UPSTREAM, or the one failed over to. */
  get node(): string {
    return describeTarget(this.#transport.target);
  }

  async start(): Promise<void> {
    await this.#transport.start();
    this.#keepAlive = setInterval(() => this.#ping(), this.options.keepAliveMs ?? 5000);
    this.#keepAlive.unref();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#unregistrar?.close();
    this.#retransmissions?.close();
    this.#transport.close();
  }

  /** A request from a WebSocket client, its top Via already stamped with received/rport. */
  fromClient(request: SipRequest, flow: Flow): void {
    const reply = (status: number, text: string) =>
      flow.send(serializeSipMessage(createResponse(request, status, [warning(AGENT, text)])));
    if (!this.#up) {
      if (request.method !== 'ACK') reply(503, 'the upstream SIP server does not answer');
      return;
    }
    const maxForwards = forwardedMaxForwards(request);
    if (maxForwards === undefined) {
      if (request.method !== 'ACK') reply(483, 'too many hops');
      return;
    }
    const refusal = this.#dialogRefusal(request, flow) ?? this.#identityRefusal(request);
    if (refusal) {
      if (request.method !== 'ACK') reply(403, refusal);
      return;
    }
    const media = this.#policed(request);
    if ('reject' in media) {
      flow.send(serializeSipMessage(refusalResponse(request, media.reject)));
      return;
    }
    let out = withHeader(this.#withoutOwnRoute(media.message), 'Max-Forwards', String(maxForwards));
    const initial = isInitial(request);
    if (request.method === 'INVITE') this.options.onInvite?.(header(request, 'Call-ID') ?? '');
    if (request.method === 'REGISTER') {
      const ob = asksForOutbound(request) ? ';ob' : '';
      out = withHeaderPrepended(out, 'Path', `<${this.#routeUri(flow)};lr${ob}>`);
      // RFC 3327 §5: the registrar must see `path` supported; say so once, not again when the
      // client already did.
      if (!supportedTags(out).includes('path')) out = withHeaderPrepended(out, 'Supported', 'path');
    } else if (initial && DIALOG_CREATING.has(request.method)) {
      out = withHeaderPrepended(out, 'Record-Route', this.#recordRoute(flow, request));
    }
    const branch = `${MAGIC_COOKIE}.${flow.id}.${hash(topBranch(request))}`;
    this.#remember(branch, out);
    if (request.method === 'REGISTER') this.#rememberRegister(branch, request);
    this.#observeFromClient(branch, request, initial);
    out = withHeaderPrepended(out, 'Via', `${this.#viaSentBy()};branch=${branch};rport`);
    const bytes = serializeSipMessage(out);
    this.#transport.send(bytes);
    if (this.#retransmissions && request.method !== 'ACK')
      this.#retransmissions.start(branch, request.method, bytes);
  }

  /**
   * A response from a WebSocket client to a request the upstream sent it: back to the node that
   * sent the request (its Via, now on top), which holds the transaction — in a cluster, not
   * necessarily the node this gateway sends its own requests to (RFC 3261 §18.2.2).
   */
  responseFromClient(response: SipResponse): void {
    this.#send(this.#answered(topBranch(response), withoutFirstHeader(response, 'Via')));
  }

  /** The codec policy on a request about to cross: rewritten SDP, or the 488 to answer. */
  #policed(request: SipRequest): ReturnType<MediaPolicy['request']> {
    return this.options.media ? this.options.media.request(request) : { message: request };
  }

  #remember(branch: string, forwarded: SipRequest): void {
    if (!this.options.media || !OFFER_ANSWER_METHODS.has(forwarded.method)) return;
    const { transactionMs, inviteMs } = this.#timers;
    this.#inFlight.set(
      transactionKey(branch, forwarded.method),
      retainedRequest(forwarded, OFFER_KEPT),
      forwarded.method === 'INVITE' ? inviteMs : transactionMs,
    );
  }

  #rememberRegister(branch: string, request: SipRequest): void {
    this.#registering.set(
      transactionKey(branch, 'REGISTER'),
      retainedRequest(request, REGISTER_KEPT),
      this.#timers.transactionMs,
    );
  }

  /** A client's initial INVITE or BYE on its way up, told to observeCall. */
  #observeFromClient(branch: string, request: SipRequest, initial: boolean): void {
    const observe = this.options.observeCall;
    if (!observe) return;
    if (request.method === 'BYE') observe(callEvent('bye', request));
    if (request.method !== 'INVITE' || !initial) return;
    observe(callEvent('invite', request));
    this.#callsSettingUp.set(
      transactionKey(branch, 'INVITE'),
      retainedRequest(request, CALL_KEPT),
      this.#timers.inviteMs,
    );
  }

  /**
   * The final answer to a client's initial INVITE (once: a 2xx sent again finds nothing kept). A
   * challenge (401/407) is not the call's outcome: the client sends the INVITE again, answered.
   */
  #callAnswered(branch: string, response: SipResponse): void {
    const key = transactionKey(branch, 'INVITE');
    const invite = this.#callsSettingUp.get(key);
    if (!invite) return;
    this.#callsSettingUp.delete(key);
    if (response.status === 401 || response.status === 407) return;
    this.options.observeCall?.(
      response.status < 300
        ? callEvent('answered', invite)
        : callEvent('rejected', invite, { status: response.status }),
    );
  }

  /**
   * The upstream's final answer to a client's REGISTER: a 2xx proves the client holds the
   * credential it answered the challenge with, so the connection is that credential's user — never
   * merely the To it wrote (#identityRefusal has already refused a To of someone else). Anonymous
   * mode proves nothing: there the To user is all there is.
   */
  #registerAnswered(branch: string, response: SipResponse, flow: Flow): void {
    if (response.status < 200) return;
    const key = transactionKey(branch, 'REGISTER');
    const request = this.#registering.get(key);
    this.#registering.delete(key);
    if (!request || response.status >= 300) return;
    const proven = digestUsername(header(request, 'Authorization'));
    const owner =
      proven !== undefined
        ? credentialUser(proven)
        : this.options.dialogTokens
          ? undefined
          : parseNameAddr(header(request, 'To') ?? '')?.uri.user;
    if (owner === undefined) return;
    this.options.flows.learnContacts(flow, request, owner);
    this.#unregistrar?.registered(flow.id, request, `<${this.#routeUri(flow)};lr>`);
    if (owner !== flow.authenticatedUser) flow.authenticatedUser = detached(owner);
  }

  /**
   * Why a client's initial request may not pass as who it claims (undefined when it may): the
   * credential it carries must be its To user's (REGISTER) or its From user's (anything else),
   * must not be revoked, and a call-link guest may do only what guest-scope.ts allows. The
   * upstream checks the credential itself; this binds the identity to it, as embedded mode does.
   */
  #identityRefusal(request: SipRequest): string | undefined {
    const { method } = request;
    if (method === 'CANCEL' || method === 'ACK' || !isInitial(request)) return undefined;
    const register = method === 'REGISTER';
    // A proxy (Kamailio) challenges with 407, a PBX answering for itself (Asterisk) with 401: a
    // request may carry either. One credential only: the upstream picks the one of its realm, not
    // necessarily the first read here.
    const names = register ? CREDENTIAL_HEADERS.register : CREDENTIAL_HEADERS.other;
    const credentials = names.flatMap((name) => headers(request, name));
    if (credentials.length > 1) return 'one credential per request';
    const claimed = parseNameAddr(header(request, register ? 'To' : 'From') ?? '')?.uri.user;
    const username = digestUsername(credentials[0]);
    if (username !== undefined) {
      const user = credentialUser(username);
      if (user !== claimed)
        return `${user} may not ${register ? 'register' : 'send as'} ${claimed ?? 'nobody'}`;
      const revoked = this.options.revoked?.(username);
      if (revoked !== undefined) return revoked;
    }
    if (register) return undefined;
    return (
      subscriptionRefusal(request, claimed) ?? guestRefusal(method, claimed, parseUri(request.uri)?.user)
    );
  }

  /**
   * A response to a request this relay passed on (by its branch and CSeq method: a CANCEL's 200
   * is not its INVITE's), with the policy on its SDP.
   */
  #answered(branch: string, response: SipResponse): SipResponse {
    if (!this.options.media) return response;
    const method = cseqMethod(response);
    const key = transactionKey(branch, method);
    const forwarded = this.#inFlight.get(key);
    if (!forwarded) return response;
    const { transactionMs, inviteMs } = this.#timers;
    if (method !== 'INVITE') {
      if (response.status >= 200) this.#inFlight.delete(key);
    } else if (response.status < 200) this.#inFlight.extend(key, inviteMs);
    // The upstream sends a 2xx again until it sees the ACK: the answer is policed each time.
    else if (response.status < 300) this.#inFlight.extend(key, transactionMs);
    else this.#inFlight.delete(key);
    return this.options.media.response(response, forwarded);
  }

  /**
   * Why a client's in-dialog request may not pass (undefined when it may): it must carry the
   * dialog token of our Record-Route and come from the user the flow registered as, whatever its
   * top Route names. Only the ACK of a non-2xx answer carries no Route at all (it follows its
   * INVITE, which had none): it passes, and the upstream takes it only as the end of a
   * transaction it holds. Any other Route without our token would make the upstream a relay
   * toward wherever the next Route points.
   */
  #dialogRefusal(request: SipRequest, flow: Flow): string | undefined {
    const tokens = this.options.dialogTokens;
    if (!tokens || request.method === 'CANCEL') return undefined;
    const to = parseNameAddr(header(request, 'To') ?? '');
    if (to?.params.tag === undefined) return undefined;
    const top = header(request, 'Route');
    if (top === undefined && request.method === 'ACK') return undefined;
    const route = parseNameAddr(top ?? '');
    const ours = route !== undefined && this.#isOwn(route.uri.host, route.uri.port);
    const token = ours ? route.uri.params[DIALOG_TOKEN_PARAM] : undefined;
    if (!token || !tokens.verifyRequest(token, request)) return 'not in a dialog this gateway routed';
    const fromUser = parseNameAddr(header(request, 'From') ?? '')?.uri.user;
    if (flow.authenticatedUser === undefined || flow.authenticatedUser !== fromUser)
      return `this connection has not registered as ${fromUser ?? 'nobody'}`;
    return undefined;
  }

  /** Our Record-Route for a dialog-creating request on `flow`, with the dialog token when we have a key. */
  #recordRoute(flow: Flow, request: SipRequest): string {
    const tokens = this.options.dialogTokens;
    if (!tokens) return `<${this.#routeUri(flow)};lr>`;
    return `<${this.#routeUri(flow)};lr;${DIALOG_TOKEN_PARAM}=${tokens.signRequest(request)}>`;
  }

  /**
   * Whether a Route names this relay, a sibling worker's (same host, one of their ports) or a
   * peer gateway's: one of the deployment's edges, whose dialog tokens this one verifies.
   */
  #isOwn(host: string, port: number | undefined): boolean {
    const local = this.#localAddress();
    const named = `${host}:${port ?? ''}`;
    if (named === local || this.options.peers?.has(named)) return true;
    const siblings = this.options.siblings;
    return (
      siblings !== undefined &&
      port !== undefined &&
      siblings.ports.has(port) &&
      host === local.slice(0, local.lastIndexOf(':'))
    );
  }

  #withoutOwnRoute(request: SipRequest): SipRequest {
    const top = header(request, 'Route');
    const route = top ? parseNameAddr(top) : undefined;
    if (!route) return request;
    return this.#isOwn(route.uri.host, route.uri.port) ? withoutFirstHeader(request, 'Route') : request;
  }

  #localAddress(): string {
    return this.#transport.local;
  }

  /** Where the upstream sends a client's requests: here, over the same transport, naming its flow. */
  #routeUri(flow: Flow): string {
    const transport =
      this.#transport.name === 'UDP' ? '' : `;transport=${this.#transport.name.toLowerCase()}`;
    return `sip:${flow.id}@${this.#localAddress()}${transport}`;
  }

  #viaSentBy(): string {
    return `SIP/2.0/${this.#transport.name} ${this.#localAddress()}`;
  }

  /** A request to the node in use; a response to the node whose request it answers (its Via). */
  #send(message: SipMessage): void {
    this.#transport.send(
      serializeSipMessage(message),
      message.kind === 'response' ? viaSender(message) : undefined,
    );
  }

  #fromUpstream(data: Buffer): void {
    if (data.length <= 4 && /^\s*$/.test(data.toString())) return;
    let message: SipMessage;
    try {
      message = parseSipMessage(data);
    } catch (error) {
      this.options.log.warn(
        { problem: error instanceof SipParseError ? error.warning : String(error) },
        'malformed SIP from upstream; dropped',
      );
      return;
    }
    if (message.kind === 'response') return this.#responseFromUpstream(message);
    this.#requestFromUpstream(message);
  }

  /** A request of the upstream that a sibling worker handed over: it was parsed there already. */
  #handedOver(data: string, hops: number): void {
    const message = parseSipMessage(data);
    if (message.kind === 'request') this.#requestFromUpstream(message, hops);
  }

  #responseFromUpstream(response: SipResponse): void {
    const branch = topBranch(response);
    this.#retransmissions?.answered(branch, cseqMethod(response));
    if (branch.startsWith(`${MAGIC_COOKIE}.ping.`)) {
      this.#lastPong = Date.now();
      this.#setUp(true);
      return;
    }
    if (this.#unregistrar?.answered(branch, response)) return;
    const flowId = branch.split('.')[1] ?? '';
    const flow = this.options.flows.get(flowId);
    if (!flow) return;
    if (cseqMethod(response) === 'REGISTER') this.#registerAnswered(branch, response, flow);
    if (cseqMethod(response) === 'INVITE' && response.status >= 200) this.#callAnswered(branch, response);
    let out = this.#answered(branch, withoutFirstHeader(response, 'Via'));
    if (response.status >= 200 && response.status < 300 && cseqMethod(response) === 'INVITE')
      out = this.options.callTokens?.stamp(out, 'From') ?? out;
    flow.send(serializeSipMessage(out));
  }

  /**
   * A request of the upstream for a client: the top Route (ours) names the client's flow. One
   * for a client this worker does not carry goes to the next sibling worker (`hops` of them have
   * seen it already); the last answers 430.
   */
  #requestFromUpstream(request: SipRequest, hops = 0): void {
    // RFC 3261 §16.3 step 3, before anything else is looked at.
    const maxForwards = forwardedMaxForwards(request);
    if (maxForwards === undefined) {
      if (request.method !== 'ACK')
        this.#send(createResponse(request, 483, [warning(AGENT, 'too many hops')]));
      return;
    }
    const top = header(request, 'Route');
    const route = top ? parseNameAddr(top) : undefined;
    if (this.#isProbe(request, route)) {
      this.#send(createResponse(request, 200));
      return;
    }
    const flow =
      (route?.uri.user ? this.options.flows.get(route.uri.user) : undefined) ?? this.#flowOfContact(request);
    const refusal = this.#guestTargetRefusal(request, flow);
    if (refusal) {
      this.#send(createResponse(request, 403, [warning(AGENT, refusal)]));
      return;
    }
    if (!flow) {
      const siblings = this.options.siblings;
      if (siblings && hops < siblings.count - 1) {
        siblings.handOver(serializeSipMessage(request), hops + 1);
        return;
      }
      if (request.method !== 'ACK') {
        this.#send(
          createResponse(
            request,
            FLOW_FAILED,
            [warning(AGENT, 'the client’s connection is gone')],
            'Flow Failed',
          ),
        );
      }
      return;
    }
    const media = this.#policed(request);
    if ('reject' in media) {
      this.#send(refusalResponse(request, media.reject));
      return;
    }
    let out = withHeader(withoutFirstHeader(media.message, 'Route'), 'Max-Forwards', String(maxForwards));
    const initial = isInitial(request);
    if (request.method === 'INVITE') {
      this.options.onInvite?.(header(request, 'Call-ID') ?? '');
      out = this.options.callTokens?.stamp(out, 'To') ?? out;
    }
    if (initial && DIALOG_CREATING.has(request.method)) {
      out = withHeaderPrepended(out, 'Record-Route', this.#recordRoute(flow, request));
    }
    const branch = `${UPSTREAM_BRANCH_PREFIX}${hash(topBranch(request))}`;
    this.#remember(branch, out);
    out = withHeaderPrepended(
      out,
      'Via',
      `SIP/2.0/${flow.transport} ${this.options.sentBy()};branch=${branch}`,
    );
    flow.send(serializeSipMessage(out));
  }

  /**
   * An OPTIONS of the upstream for this gateway itself, not for a client: no Route, and a
   * Request-URI without a user naming this relay (Kamailio's dispatcher probing its gateways,
   * WITH_GATEWAYS). Answered 200: the gateway is up, whichever clients it carries.
   */
  #isProbe(request: SipRequest, route: NameAddr | undefined): boolean {
    if (request.method !== 'OPTIONS' || route !== undefined) return false;
    const uri = parseUri(request.uri);
    return uri !== undefined && uri.user === undefined && this.#isOwn(uri.host, uri.port);
  }

  /** Whether an initial request of the upstream may reach a call-link guest's connection (guest-scope.ts). */
  #guestTargetRefusal(request: SipRequest, flow: Flow | undefined): string | undefined {
    if (!flow || request.method === 'ACK' || request.method === 'CANCEL') return undefined;
    if (!isInitial(request)) return undefined;
    const sender = parseNameAddr(header(request, 'From') ?? '')?.uri.user;
    return guestRefusal(request.method, sender, flow.authenticatedUser);
  }

  /**
   * A request inside a call whose flow token is gone (the client reconnected, or this gateway
   * restarted) still reaches the client if it has come back: its Request-URI is the client's
   * contact, which its new connection has sent (RFC 5626 flow recovery).
   */
  #flowOfContact(request: SipRequest): Flow | undefined {
    if (isInitial(request)) return undefined;
    const uri = parseUri(request.uri);
    return uri ? this.options.flows.contact(uri.user, uri.host)?.flow : undefined;
  }

  /**
   * The keep-alive: an OPTIONS to the node in use. One that has not answered for two intervals
   * and a second is down; with several nodes the next one is asked at once (RFC 3263 §4.3's
   * "try the next", with liveness from keep-alives rather than a transaction's timeout).
   */
  #ping(): void {
    // Two intervals and a bit more: a late answer is not a lost node. The bit is at most a second.
    const interval = this.options.keepAliveMs ?? 5000;
    const window = 2 * interval + Math.min(1000, interval);
    if (Date.now() - Math.max(this.#lastPong, this.#nodeSince) > window) {
      this.#setUp(false);
      if (this.#transport.failOver()) {
        this.#nodeSince = Date.now();
        this.options.log.warn(
          { upstream: describeTarget(this.#transport.target) },
          'trying the next upstream node',
        );
      }
    }
    if (!this.#localAddress()) return;
    this.#pingCSeq += 1;
    const { host, port, transport } = this.#transport.target;
    const target = `sip:${host}:${port}${transport === 'UDP' ? '' : `;transport=${transport.toLowerCase()}`}`;
    const ping: SipRequest = {
      kind: 'request',
      method: 'OPTIONS',
      uri: target,
      headers: [
        {
          name: 'Via',
          value: `${this.#viaSentBy()};branch=${MAGIC_COOKIE}.ping.${this.#pingCSeq}`,
        },
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: `<sip:ringway@${this.#localAddress()}>;tag=keepalive` },
        { name: 'To', value: `<${target}>` },
        { name: 'Call-ID', value: `keepalive-${this.#localAddress()}` },
        { name: 'CSeq', value: `${this.#pingCSeq} OPTIONS` },
      ],
      body: '',
    };
    this.#send(ping);
  }

  #setUp(up: boolean): void {
    if (up === this.#up) return;
    this.#up = up;
    this.options.log.info({ upstream: describeTarget(this.#transport.target), up }, 'upstream state');
    this.options.onHealth(up);
  }
}

/** Where a request's credential is: a REGISTER answers its registrar, anything else a proxy or a PBX. */
const CREDENTIAL_HEADERS = {
  register: ['Authorization'],
  other: ['Proxy-Authorization', 'Authorization'],
} as const;

/** The digest username of a credential header's value, if it names one. */
function digestUsername(value: string | undefined): string | undefined {
  return value === undefined ? undefined : parseDigestParams(value)?.username;
}
