import type { CallTokens } from '../../calls/call-tokens.js';
import { parseUri, type SipUri } from '../address.js';
import { AGENT, DIALOG_CREATING, isInitial } from '../dialog-rules.js';
import type { Flow } from '../flow.js';
import type { FlowTable } from '../flow-table.js';
import type { Logger } from '../logger.js';
import type { MediaPolicy } from '../media-policy.js';
import { refusalResponse } from '../media-policy.js';
import {
  header,
  type SipHeaderField,
  type SipRequest,
  type SipResponse,
  withHeader,
  withHeaderPrepended,
} from '../message.js';
import type { LocationService } from '../registrar/location-service.js';
import { createResponse, warning } from '../responses.js';
import { serializeSipMessage } from '../serializer.js';
import { parseVia, viaParam } from '../via.js';
import { statelessBranch } from './branch-id.js';
import { callEvent, type ProxyEvents } from './call-events.js';
import type { DialogTokens } from './dialog-token.js';
import { type ProxyTimers, ProxyTransactions } from './proxy-transactions.js';
import { type ContactScope, Routing, type Target } from './routing.js';

export type { CallEvent, ProxyEvents } from './call-events.js';
export type { ProxyTimers } from './proxy-transactions.js';
export type { ContactScope } from './routing.js';

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

const ALLOW =
  'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, MESSAGE, REFER, NOTIFY, SUBSCRIBE, PRACK';

/**
 * The proxy core (RFC 3261 §16) between WebSocket clients: a stateful, forking, record-routing
 * proxy. It validates a request (§16.3), asks routing.ts where it goes (§16.4, §16.5) and hands
 * it to the transaction engine, proxy-transactions.ts (§16.6–§16.10). Knows nothing of HTTP or
 * WebSockets: it reads requests and responses from flows and writes to flows.
 */
export class ProxyCore {
  readonly #routing: Routing;
  readonly #transactions: ProxyTransactions;
  readonly #log: Logger;
  readonly #events: ProxyEvents;
  readonly #media: MediaPolicy;
  readonly #identity: ProxyDependencies['identity'];
  #draining = false;

  constructor(deps: ProxyDependencies) {
    this.#routing = new Routing(deps);
    const { timers, log, events, media, callTokens } = deps;
    this.#transactions = new ProxyTransactions({
      sentBy: deps.identity.sentBy,
      timers,
      log,
      events,
      media,
      callTokens,
    });
    this.#log = deps.log;
    this.#events = deps.events;
    this.#media = deps.media;
    this.#identity = deps.identity;
  }

  /** True while any transaction still waits for its final response. */
  get busy(): boolean {
    return this.#transactions.busy;
  }

  /** From now on new calls are refused with 503, so that a restart does not cut a call half set up. */
  drain(): void {
    this.#draining = true;
  }

  close(): void {
    this.#transactions.close();
  }

  /** A request the SIP server admitted; `scope` says whose contacts it may reach. */
  handleRequest(request: SipRequest, flow: Flow, scope: ContactScope = 'any'): void {
    if (request.method === 'CANCEL') return this.#transactions.cancel(request, flow);
    if (request.method === 'ACK') return this.#handleAck(request, flow, scope);
    // A retransmission is the transaction's, whatever the checks below would say of it now.
    if (this.#transactions.retransmission(request, flow)) return;
    const reply = (status: number, text?: string, extra: SipHeaderField[] = []) =>
      this.#send(flow, createResponse(request, status, text ? [warning(AGENT, text), ...extra] : extra));

    const maxForwards = Number(header(request, 'Max-Forwards') ?? 70);
    if (maxForwards === 0) {
      // RFC 3261 §16.3 step 3: a proxy may answer an OPTIONS that has run out of hops itself.
      return request.method === 'OPTIONS' ? this.#answerOptions(request, flow) : reply(483);
    }
    if (this.#routing.looped(request)) return reply(482, 'request came back to this proxy');
    const routed = this.#routing.preprocess(request);
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
    const resolution = this.#routing.resolve(routed, scope);
    if ('status' in resolution) return reply(resolution.status, resolution.text);
    const refusal = this.#transactions.refusal(flow);
    if (refusal !== undefined) return reply(503, refusal, [{ name: 'Retry-After', value: '5' }]);
    const policed = this.#media.request(routed);
    if ('reject' in policed) {
      const { status, offered } = policed.reject;
      this.#log.info({ callId: header(request, 'Call-ID'), status, offered }, 'offer refused');
      this.#send(flow, refusalResponse(request, policed.reject));
      if (request.method === 'INVITE' && initial) {
        // Refused before anyone rang: no `invite` went out, and a `rejected` ends nothing in
        // the presence book; a rendezvous session learns why its call failed.
        this.#events.callCompleted(status, header(request, 'Call-ID') ?? '', 0);
        this.#events.callEvent(callEvent('rejected', request, { status }));
      }
      return;
    }
    const forwarded = withHeader(policed.message, 'Max-Forwards', String(maxForwards - 1));
    const recordRoutes = initial && DIALOG_CREATING.has(request.method);
    const copies = resolution.targets.map((target) => ({
      target,
      request: recordRoutes
        ? this.#routing
            .recordRoutes(request, flow, target.flow)
            .reduceRight((copy, value) => withHeaderPrepended(copy, 'Record-Route', value), forwarded)
        : forwarded,
    }));
    this.#transactions.start(request, flow, copies, policed.offered);
    if (request.method === 'INVITE' && !initial) this.#events.callEvent(callEvent('reinvite', request));
    else if (request.method === 'BYE') this.#events.callEvent(callEvent('bye', request));
  }

  handleResponse(response: SipResponse, flow: Flow): void {
    this.#transactions.handleResponse(response, flow);
  }

  /** The flow went away: its callers' requests are cancelled, requests waiting on it fail. */
  flowClosed(flowId: string): void {
    this.#transactions.flowClosed(flowId);
  }

  #answerOptions(request: SipRequest, flow: Flow): void {
    this.#send(
      flow,
      createResponse(request, 200, [
        { name: 'Allow', value: ALLOW },
        { name: 'Accept', value: 'application/sdp' },
      ]),
    );
  }

  /**
   * The ACK of a non-2xx final response belongs to our transaction and ends there; the ACK of a
   * 2xx is a request of its own, routed end to end without transaction state (RFC 3261 §16.11).
   */
  #handleAck(request: SipRequest, flow: Flow, scope: ContactScope): void {
    if (this.#transactions.absorbAck(request, flow)) return;
    this.#transactions.acknowledged(request, flow);
    const maxForwards = Number(header(request, 'Max-Forwards') ?? 70);
    if (maxForwards === 0) return;
    const routed = this.#routing.preprocess(request);
    if (header(routed, 'Route') !== undefined) return;
    const policed = this.#media.request(routed);
    if ('reject' in policed) return;
    const resolution = this.#routing.resolve(policed.message, scope);
    if ('status' in resolution) {
      this.#log.debug({ status: resolution.status }, 'ACK has nowhere to go; dropped');
      return;
    }
    const target = resolution.targets[0] as Target;
    const via = parseVia(header(request, 'Via') ?? '');
    const incomingBranch = (via && viaParam(via, 'branch')) ?? '';
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
