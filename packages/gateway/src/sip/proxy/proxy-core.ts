import type { CallTokens } from '../../calls/call-tokens.js';
import { addressOfRecord, parseNameAddr, parseUri, type SipUri } from '../address.js';
import { AGENT, DIALOG_CREATING, isInitial } from '../dialog-rules.js';
import type { Flow } from '../flow.js';
import type { FlowTable } from '../flow-table.js';
import type { Logger } from '../logger.js';
import type { MediaPolicy } from '../media-policy.js';
import { refusalResponse } from '../media-policy.js';
import {
  detached,
  header,
  headers,
  type SipHeaderField,
  type SipRequest,
  type SipResponse,
  withHeader,
  withHeaderPrepended,
  withoutFirstHeader,
} from '../message.js';
import type { LocationService } from '../registrar/location-service.js';
import { createResponse, cseqMethod, warning } from '../responses.js';
import { serializeSipMessage } from '../serializer.js';
import { parseVia, viaParam } from '../via.js';
import { bestResponse } from './best-response.js';
import { loopHash, MAGIC_COOKIE, newBranch, statelessBranch } from './branch-id.js';
import { DIALOG_TOKEN_PARAM, type DialogTokens } from './dialog-token.js';
import { type ClientBranch, hopHeadersOnly, type ServerTransaction, transactionKey } from './transactions.js';

/**
 * How long a finished INVITE transaction is kept to absorb the ACK of a non-2xx answer (Timer H,
 * 64·T1) and pass on the callee's 2xx retransmissions. Every other transaction is forgotten at
 * once: on a reliable transport Timer J is 0 (RFC 3261 §17.2.2), and WebSocket is one.
 */
const INVITE_LINGER_MS = 32_000;
/**
 * Server transactions held at most (in progress or lingering): past it, new requests get 503,
 * so that requests nobody answers cannot fill memory.
 */
const MAX_TRANSACTIONS = 20_000;
/**
 * Requests of one connection waiting for their final answer at most: a softphone has a handful
 * in flight; a client with more is flooding, and each holds a whole request until Timer B/C.
 */
const MAX_PENDING_PER_FLOW = 100;
/** Requests outside a dialog that create one, and so are record-routed (RFC 3261 §16.6 step 4). */

export interface ProxyTimers {
  /** Timer B/F: no final (or, for INVITE, no provisional) answer from a branch. */
  transactionMs: number;
  /** Timer C: an INVITE branch rang this long after its last provisional. */
  inviteMs: number;
}

/** What happened to a call, as the proxy saw it pass (for observers such as rendezvous sessions). */
export interface CallEvent {
  /**
   * `reinvite`: an INVITE inside a call (hold, resume, the ICE restart after a reconnection).
   * `ringing`: a callee's provisional answer with a To tag (an early dialog) went to the caller.
   */
  type: 'invite' | 'reinvite' | 'ringing' | 'answered' | 'rejected' | 'bye';
  callId: string;
  fromUser: string | undefined;
  toUser: string | undefined;
  /** The caller's From tag and, once an early dialog exists, the callee's To tag. */
  fromTag?: string | undefined;
  toTag?: string | undefined;
  /** The final status of a rejected INVITE. */
  status?: number;
}

export interface ProxyEvents {
  /** A call was set up, answered, refused or ended through this proxy. */
  callEvent(event: CallEvent): void;
  /** A final response to an initial INVITE went back to the caller. */
  callCompleted(status: number, callId: string, setupMs: number): void;
  transactionsChanged(count: number): void;
}

/**
 * Whose contacts (client Contact URIs, as opposed to addresses-of-record) a request may reach:
 * anyone's for a new request (its sender is proven, or nobody is in anonymous mode), only the
 * other party's for a request inside a dialog.
 */
export type ContactScope = 'any' | { owner: string | undefined };

/** What the proxy core works with; the SIP server builds it. */
export interface ProxyDependencies {
  flows: FlowTable;
  location: LocationService;
  identity: {
    /** host:port written into Via and Record-Route. */
    sentBy: () => string;
    /** Whether a Route URI names this gateway (host and port). */
    isOwnRoute: (uri: SipUri) => boolean;
    /** Whether a domain is one the registrar serves. */
    isOurDomain: (host: string) => boolean;
  };
  timers: ProxyTimers;
  log: Logger;
  events: ProxyEvents;
  /** Users that exist whether or not registered (static users file), for 404 against 480. */
  knownUsers: ReadonlySet<string>;
  /** The codec policy for calls between WebSocket clients. */
  media: MediaPolicy;
  /** Signs the dialogs this proxy record-routes; undefined in anonymous mode (nothing to prove). */
  dialogTokens: DialogTokens | undefined;
  /** Hands each party of a call its quality-report token. */
  callTokens: CallTokens;
}

interface Target {
  flow: Flow;
  uri: string;
}

type Resolution = { targets: Target[] } | { status: number; text: string };

/**
 * The proxy core (RFC 3261 §16) between WebSocket clients: a stateful, forking, record-routing
 * proxy. Knows nothing of HTTP or WebSockets: it reads requests and responses from flows and
 * writes to flows.
 */
export class ProxyCore {
  readonly #servers = new Map<string, ServerTransaction>();
  readonly #branches = new Map<string, ClientBranch>();
  /** Server transactions without a final answer yet, by the flow that sent them. */
  readonly #pendingByFlow = new Map<string, number>();
  #draining = false;

  readonly #flows: FlowTable;
  readonly #location: LocationService;
  readonly #identity: ProxyDependencies['identity'];
  readonly #timers: ProxyTimers;
  readonly #log: Logger;
  readonly #events: ProxyEvents;
  readonly #knownUsers: ReadonlySet<string>;
  readonly #media: MediaPolicy;
  readonly #dialogTokens: DialogTokens | undefined;
  readonly #callTokens: CallTokens;

  constructor(deps: ProxyDependencies) {
    this.#flows = deps.flows;
    this.#location = deps.location;
    this.#identity = deps.identity;
    this.#timers = deps.timers;
    this.#log = deps.log;
    this.#events = deps.events;
    this.#knownUsers = deps.knownUsers;
    this.#media = deps.media;
    this.#dialogTokens = deps.dialogTokens;
    this.#callTokens = deps.callTokens;
  }

  /** True while any transaction still waits for its final response. */
  get busy(): boolean {
    return [...this.#servers.values()].some((s) => !s.finalSent);
  }

  /** From now on new calls are refused with 503, so that a restart does not cut a call half set up. */
  drain(): void {
    this.#draining = true;
  }

  close(): void {
    for (const server of this.#servers.values()) clearTimeout(server.lingerTimer);
    for (const branch of this.#branches.values()) clearTimeout(branch.timer);
    this.#servers.clear();
    this.#pendingByFlow.clear();
    this.#branches.clear();
  }

  /** A request the SIP server admitted; `scope` says whose contacts it may reach. */
  handleRequest(request: SipRequest, flow: Flow, scope: ContactScope = 'any'): void {
    if (request.method === 'CANCEL') return this.#handleCancel(request, flow);
    if (request.method === 'ACK') return this.#handleAck(request, scope);
    const reply = (status: number, text?: string, extra: SipHeaderField[] = []) =>
      this.#send(flow, createResponse(request, status, text ? [warning(AGENT, text), ...extra] : extra));

    const maxForwards = Number(header(request, 'Max-Forwards') ?? 70);
    if (maxForwards === 0) {
      // RFC 3261 §16.3 step 3: a proxy may answer an OPTIONS that has run out of hops itself.
      return request.method === 'OPTIONS' ? this.#answerOptions(request, flow) : reply(483);
    }
    if (this.#looped(request)) return reply(482, 'request came back to this proxy');
    const routed = this.#consumeOwnRoute(request);
    const foreignRoute = header(routed, 'Route');
    if (foreignRoute !== undefined) return reply(403, `no relay to ${foreignRoute}`);

    const uri = parseUri(routed.uri);
    if (!uri) return reply(416, `cannot route to ${routed.uri}`);
    if (request.method === 'OPTIONS' && !uri.user && this.#identity.isOurDomain(uri.host)) {
      return this.#answerOptions(request, flow);
    }
    const initial = isInitial(request);
    if (this.#draining && request.method === 'INVITE' && initial) {
      return reply(503, 'gateway is shutting down', [{ name: 'Retry-After', value: '5' }]);
    }
    const resolution = this.#resolve(routed, scope);
    if ('status' in resolution) return reply(resolution.status, resolution.text);
    const policed = this.#media.request(routed);
    if ('reject' in policed) {
      const { status, offered } = policed.reject;
      this.#log.info({ callId: header(request, 'Call-ID'), status, offered }, 'offer refused');
      this.#send(flow, refusalResponse(request, policed.reject));
      if (request.method === 'INVITE' && initial) {
        this.#events.callCompleted(status, header(request, 'Call-ID') ?? '', 0);
        this.#tell('rejected', request, status);
      }
      return;
    }
    if (request.method === 'INVITE') this.#tell(initial ? 'invite' : 'reinvite', request);
    else if (request.method === 'BYE') this.#tell('bye', request);

    const key = detached(transactionKey(this.#topBranch(request), request.method));
    if (this.#servers.has(key)) {
      this.#log.debug({ key }, 'request merged with a transaction in progress; ignored');
      return;
    }
    const pending = this.#pendingByFlow.get(flow.id) ?? 0;
    if (this.#servers.size >= MAX_TRANSACTIONS || pending >= MAX_PENDING_PER_FLOW) {
      return reply(503, 'too many requests in progress', [{ name: 'Retry-After', value: '5' }]);
    }
    this.#pendingByFlow.set(flow.id, pending + 1);
    const server: ServerTransaction = {
      key,
      request,
      flow,
      callId: detached(header(request, 'Call-ID') as string),
      branches: [],
      finals: [],
      finalSent: false,
      cancelled: false,
      startedAt: Date.now(),
    };
    this.#servers.set(key, server);
    this.#events.transactionsChanged(this.#servers.size);
    if (request.method === 'INVITE') this.#send(flow, createResponse(request, 100));

    const forwarded = withHeader(policed.message, 'Max-Forwards', String(maxForwards - 1));
    const recordRouted =
      initial && DIALOG_CREATING.has(request.method)
        ? withHeaderPrepended(forwarded, 'Record-Route', this.#recordRoute(request))
        : forwarded;
    for (const target of resolution.targets) this.#fork(server, recordRouted, target);
  }

  handleResponse(response: SipResponse, _flow: Flow): void {
    const via = parseVia(header(response, 'Via') ?? '');
    const branch = via && this.#branches.get(viaParam(via, 'branch') ?? '');
    if (!branch) {
      this.#log.debug({ status: response.status }, 'response matches no transaction; dropped');
      return;
    }
    // The answer to our own CANCEL ends there (RFC 3261 §16.10).
    if (cseqMethod(response) !== branch.request.method) return;
    const server = branch.server;
    const isInvite = branch.request.method === 'INVITE';
    if (branch.state === 'completed') {
      // A UAS retransmits its 2xx until the ACK arrives (RFC 3261 §13.3.1.4); pass every one on,
      // as the first went.
      if (isInvite && response.status >= 200 && response.status < 300 && branch.answer)
        this.#send(server.flow, branch.answer);
      return;
    }
    const policed = this.#media.response(withoutFirstHeader(response, 'Via'), branch.request);
    // The caller's token for its quality report, on the answer that makes the call.
    const forwarded =
      isInvite && response.status >= 200 && response.status < 300
        ? this.#callTokens.stamp(policed, 'From')
        : policed;

    if (response.status < 200) {
      if (branch.state === 'trying') {
        branch.state = 'proceeding';
        if (isInvite) this.#armTimer(branch, this.#timers.inviteMs);
        if (branch.cancelWanted) this.#sendCancel(branch);
      } else if (isInvite && branch.state === 'proceeding') this.#armTimer(branch, this.#timers.inviteMs);
      if (response.status !== 100 && !server.finalSent) {
        this.#send(server.flow, forwarded);
        const toTag = parseNameAddr(header(response, 'To') ?? '')?.params.tag ?? undefined;
        if (isInvite && toTag && isInitial(server.request))
          this.#tell('ringing', server.request, undefined, toTag);
      }
      return;
    }
    this.#complete(branch, response.status);
    if (response.status < 300) {
      if (isInvite) branch.answer = forwarded;
      const first = !server.finalSent;
      this.#send(server.flow, forwarded);
      if (first) this.#finished(server, response.status);
      if (isInvite) this.#cancelBranches(server);
      return;
    }
    if (isInvite) this.#sendAck(branch, response);
    server.finals.push(forwarded);
    if (response.status >= 600 && isInvite) this.#cancelBranches(server);
    this.#maybeFinish(server);
  }

  /** The flow went away: its callers' requests are cancelled, requests waiting on it fail. */
  flowClosed(flowId: string): void {
    for (const server of this.#servers.values()) {
      if (server.flow.id === flowId && !server.finalSent) {
        server.cancelled = true;
        this.#cancelBranches(server);
      }
    }
    for (const branch of this.#branches.values()) {
      if (branch.flow.id === flowId && branch.state !== 'completed') {
        this.#fail(branch, 480, 'the callee’s connection closed');
      }
    }
  }

  #tell(type: CallEvent['type'], request: SipRequest, status?: number, toTag?: string): void {
    const from = parseNameAddr(header(request, 'From') ?? '');
    this.#events.callEvent({
      type,
      callId: header(request, 'Call-ID') ?? '',
      fromUser: from?.uri.user,
      toUser: parseNameAddr(header(request, 'To') ?? '')?.uri.user,
      fromTag: from?.params.tag ?? undefined,
      ...(toTag === undefined ? {} : { toTag }),
      ...(status === undefined ? {} : { status }),
    });
  }

  /** Our Record-Route, with the token that binds the dialog to its two parties when we have a key. */
  #recordRoute(request: SipRequest): string {
    const base = `sip:${this.#identity.sentBy()};transport=ws;lr`;
    if (!this.#dialogTokens) return `<${base}>`;
    return `<${base};${DIALOG_TOKEN_PARAM}=${this.#dialogTokens.signRequest(request)}>`;
  }

  #answerOptions(request: SipRequest, flow: Flow): void {
    this.#send(
      flow,
      createResponse(request, 200, [
        {
          name: 'Allow',
          value:
            'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, MESSAGE, REFER, NOTIFY, SUBSCRIBE, PRACK',
        },
        { name: 'Accept', value: 'application/sdp' },
      ]),
    );
  }

  #topBranch(request: SipRequest): string {
    const via = parseVia(header(request, 'Via') ?? '');
    return (via && viaParam(via, 'branch')) ?? '';
  }

  /** RFC 3261 §16.3 step 4: our own Via with this request's loop hash means it came back. */
  #looped(request: SipRequest): boolean {
    const marker = MAGIC_COOKIE + loopHash(request);
    const sentBy = this.#identity.sentBy();
    return headers(request, 'Via').some((value) => {
      const via = parseVia(value);
      if (!via) return false;
      const host = via.port === undefined ? via.host : `${via.host}:${via.port}`;
      return host === sentBy && (viaParam(via, 'branch') ?? '').startsWith(marker);
    });
  }

  /** Loose routing (RFC 3261 §16.4): a top Route naming us is removed. */
  #consumeOwnRoute(request: SipRequest): SipRequest {
    const top = header(request, 'Route');
    if (top === undefined) return request;
    const route = parseNameAddr(top);
    if (!route || !this.#identity.isOwnRoute(route.uri)) return request;
    return this.#consumeOwnRoute(withoutFirstHeader(request, 'Route'));
  }

  /**
   * Where a request goes: an address-of-record of our domain only ever through the registrar's
   * bindings; any other URI only when it is a contact one of our clients sent, and in a dialog
   * only the other party's.
   */
  #resolve(request: SipRequest, scope: ContactScope): Resolution {
    const uri = parseUri(request.uri);
    if (!uri) return { status: 416, text: `cannot route to ${request.uri}` };
    if (this.#identity.isOurDomain(uri.host)) return this.#bindingsOf(uri);
    const contact = this.#flows.contact(uri.user, uri.host);
    if (contact && (scope === 'any' || contact.owner === scope.owner))
      return { targets: [{ flow: contact.flow, uri: request.uri }] };
    // A WebSocket client's contact (RFC 7118 §5: a `.invalid` host, reachable only over its own
    // connection) whose client is not connected now, e.g. not yet back after a restart.
    if (uri.host.endsWith('.invalid')) {
      return { status: 480, text: 'that client is not connected at the moment' };
    }
    return { status: 403, text: `domain ${uri.host} is not served here; this is not an open relay` };
  }

  #bindingsOf(uri: SipUri): Resolution {
    const aor = addressOfRecord(uri);
    const targets = this.#location
      .lookup(aor)
      .sort((a, b) => (b.q ?? 1) - (a.q ?? 1))
      .flatMap((binding) => {
        const flow = this.#flows.get(binding.flowId);
        return flow ? [{ flow, uri: binding.contact }] : [];
      });
    if (targets.length > 0) return { targets };
    const known = this.#location.isKnown(aor) || (uri.user !== undefined && this.#knownUsers.has(uri.user));
    return known
      ? { status: 480, text: `${aor} has no registered device` }
      : { status: 404, text: `no user ${aor}` };
  }

  #fork(server: ServerTransaction, request: SipRequest, target: Target): void {
    const id = newBranch(server.request);
    // The callee's token for its quality report (any INVITE: a re-INVITE after a restart hands a fresh one).
    const stamped = request.method === 'INVITE' ? this.#callTokens.stamp(request, 'To') : request;
    const branchRequest = withHeaderPrepended(
      { ...stamped, uri: target.uri },
      'Via',
      `SIP/2.0/${target.flow.transport} ${this.#identity.sentBy()};branch=${id}`,
    );
    const branch: ClientBranch = {
      id,
      flow: target.flow,
      request: branchRequest,
      server,
      state: 'trying',
      cancelWanted: server.cancelled,
    };
    this.#branches.set(id, branch);
    server.branches.push(branch);
    this.#armTimer(branch, this.#timers.transactionMs);
    this.#send(target.flow, branchRequest);
  }

  #armTimer(branch: ClientBranch, ms: number): void {
    clearTimeout(branch.timer);
    branch.timer = setTimeout(() => this.#timedOut(branch), ms);
    branch.timer.unref();
  }

  #timedOut(branch: ClientBranch): void {
    if (branch.state === 'completed') return;
    if (branch.state === 'proceeding' && branch.request.method === 'INVITE') this.#sendCancel(branch);
    this.#fail(branch, 408, `no final answer from ${branch.request.uri} in time`);
  }

  /** Ends a branch with a response the proxy makes up (timeout, lost connection). */
  #fail(branch: ClientBranch, status: number, text: string): void {
    this.#complete(branch, status);
    branch.server.finals.push(createResponse(branch.server.request, status, [warning(AGENT, text)]));
    this.#maybeFinish(branch.server);
  }

  #complete(branch: ClientBranch, status: number): void {
    branch.state = 'completed';
    branch.finalStatus = status;
    clearTimeout(branch.timer);
    branch.timer = undefined;
    if (branch.server.finalSent) branch.request = hopHeadersOnly(branch.request);
  }

  #maybeFinish(server: ServerTransaction): void {
    if (server.finalSent || server.branches.some((b) => b.state !== 'completed')) return;
    let response = bestResponse(server.finals) ?? createResponse(server.request, 408);
    if (server.cancelled) response = createResponse(server.request, 487);
    // RFC 3261 §16.7 step 6: a 503 from downstream would make the caller try elsewhere for the wrong reason.
    if (response.status === 503) response = { ...response, status: 500, reason: 'Server Internal Error' };
    this.#send(server.flow, response);
    this.#finished(server, response.status);
  }

  #finished(server: ServerTransaction, status: number): void {
    server.finalSent = true;
    const pending = (this.#pendingByFlow.get(server.flow.id) ?? 1) - 1;
    if (pending > 0) this.#pendingByFlow.set(server.flow.id, pending);
    else this.#pendingByFlow.delete(server.flow.id);
    const initialInvite = server.request.method === 'INVITE' && isInitial(server.request);
    if (initialInvite) {
      this.#events.callCompleted(status, server.callId, Date.now() - server.startedAt);
      this.#tell(status < 300 ? 'answered' : 'rejected', server.request, status);
    }
    // What lingers only absorbs retransmissions, ACKs and late CANCELs: keep no bodies for it.
    server.request = hopHeadersOnly(server.request);
    server.finals = [];
    for (const branch of server.branches) {
      if (branch.state === 'completed') branch.request = hopHeadersOnly(branch.request);
    }
    if (server.request.method !== 'INVITE') return this.#forget(server);
    server.lingerTimer = setTimeout(() => this.#forget(server), INVITE_LINGER_MS);
    server.lingerTimer.unref();
  }

  #forget(server: ServerTransaction): void {
    for (const branch of server.branches) {
      clearTimeout(branch.timer);
      this.#branches.delete(branch.id);
    }
    this.#servers.delete(server.key);
    this.#events.transactionsChanged(this.#servers.size);
  }

  #cancelBranches(server: ServerTransaction): void {
    for (const branch of server.branches) {
      if (branch.state === 'proceeding') this.#sendCancel(branch);
      else if (branch.state === 'trying') branch.cancelWanted = true;
    }
  }

  /** A request for the same branch as `branch`'s INVITE: CANCEL or the ACK of a non-2xx (RFC 3261 §9.1, §17.1.1.3). */
  #hopRequest(branch: ClientBranch, method: 'CANCEL' | 'ACK', to: string): SipRequest {
    const original = branch.request;
    const cseq = Number.parseInt(header(original, 'CSeq') ?? '0', 10);
    return {
      kind: 'request',
      method,
      uri: original.uri,
      headers: [
        { name: 'Via', value: header(original, 'Via') as string },
        ...headers(original, 'Route').map((value) => ({ name: 'Route', value })),
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: header(original, 'From') as string },
        { name: 'To', value: to },
        { name: 'Call-ID', value: header(original, 'Call-ID') as string },
        { name: 'CSeq', value: `${cseq} ${method}` },
      ],
      body: '',
    };
  }

  #sendCancel(branch: ClientBranch): void {
    branch.cancelWanted = false;
    this.#send(branch.flow, this.#hopRequest(branch, 'CANCEL', header(branch.request, 'To') as string));
  }

  #sendAck(branch: ClientBranch, response: SipResponse): void {
    this.#send(branch.flow, this.#hopRequest(branch, 'ACK', header(response, 'To') as string));
  }

  #handleCancel(request: SipRequest, flow: Flow): void {
    const server = this.#servers.get(transactionKey(this.#topBranch(request), 'CANCEL'));
    // A CANCEL travels the INVITE's hop (RFC 3261 §9.1): from another connection it is somebody
    // who learnt the branch, not the caller.
    if (!server || server.flow.id !== flow.id) {
      this.#send(flow, createResponse(request, 481, [warning(AGENT, 'no INVITE to cancel')]));
      return;
    }
    this.#send(flow, createResponse(request, 200));
    if (server.finalSent) return;
    server.cancelled = true;
    this.#cancelBranches(server);
  }

  /**
   * The ACK of a non-2xx final response belongs to our transaction and ends here; the ACK of a
   * 2xx is a request of its own, routed end to end without transaction state (RFC 3261 §16.11).
   */
  #handleAck(request: SipRequest, scope: ContactScope): void {
    const incomingBranch = this.#topBranch(request);
    if (this.#servers.has(transactionKey(incomingBranch, 'ACK'))) return;
    const maxForwards = Number(header(request, 'Max-Forwards') ?? 70);
    if (maxForwards === 0) return;
    const routed = this.#consumeOwnRoute(request);
    if (header(routed, 'Route') !== undefined) return;
    const policed = this.#media.request(routed);
    if ('reject' in policed) return;
    const resolution = this.#resolve(policed.message, scope);
    if ('status' in resolution) {
      this.#log.debug({ status: resolution.status }, 'ACK has nowhere to go; dropped');
      return;
    }
    const target = resolution.targets[0] as Target;
    const forwarded = withHeaderPrepended(
      withHeader({ ...policed.message, uri: target.uri }, 'Max-Forwards', String(maxForwards - 1)),
      'Via',
      `SIP/2.0/${target.flow.transport} ${this.#identity.sentBy()};branch=${statelessBranch(incomingBranch)}`,
    );
    this.#send(target.flow, forwarded);
  }

  #send(flow: Flow, message: SipRequest | SipResponse): void {
    flow.send(serializeSipMessage(message));
  }
}
