import { addressOfRecord, parseNameAddr, parseUri, type SipUri } from '../address.js';
import type { Flow } from '../flow.js';
import type { FlowTable } from '../flow-table.js';
import { header, headers, type SipRequest, withoutFirstHeader } from '../message.js';
import type { LocationService } from '../registrar/location-service.js';
import { parseVia, viaParam } from '../via.js';
import { loopHash, MAGIC_COOKIE } from './branch-id.js';
import { DIALOG_TOKEN_PARAM, type DialogTokens } from './dialog-token.js';

/**
 * Whose contacts (client Contact URIs, as opposed to addresses-of-record) a request may reach:
 * anyone's for a new request (its sender is proven, or nobody is in anonymous mode), only the
 * other party's for a request inside a dialog.
 */
export type ContactScope = 'any' | { owner: string | undefined };

/** Who this gateway is, as routing needs to know. */
export interface RoutingIdentity {
  /** host:port written into Via and Record-Route. */
  sentBy: () => string;
  /** Whether a Route URI names this gateway (host and port). */
  isOwnRoute: (uri: SipUri) => boolean;
  /** Whether a domain is one the registrar serves. */
  isOurDomain: (host: string) => boolean;
}

export interface RoutingDependencies {
  flows: FlowTable;
  location: LocationService;
  identity: RoutingIdentity;
  /** Users that exist whether or not registered (static users file), for 404 against 480. */
  knownUsers: ReadonlySet<string>;
  /** Signs the dialogs this proxy record-routes; undefined in anonymous mode (nothing to prove). */
  dialogTokens: DialogTokens | undefined;
}

/** A place a request is forwarded to: the connection and the Request-URI it gets there. */
export interface Target {
  flow: Flow;
  uri: string;
}

export type Resolution = { targets: Target[] } | { status: number; text: string };

/**
 * Routing (RFC 3261 §16.3 step 4, §16.4, §16.5, §16.6 step 4): where a request goes and which
 * Route and Record-Route it carries there. Knows no transactions or timers.
 */
export class Routing {
  readonly #flows: FlowTable;
  readonly #location: LocationService;
  readonly #identity: RoutingIdentity;
  readonly #knownUsers: ReadonlySet<string>;
  readonly #dialogTokens: DialogTokens | undefined;

  constructor(deps: RoutingDependencies) {
    this.#flows = deps.flows;
    this.#location = deps.location;
    this.#identity = deps.identity;
    this.#knownUsers = deps.knownUsers;
    this.#dialogTokens = deps.dialogTokens;
  }

  /** RFC 3261 §16.3 step 4: our own Via with this request's loop hash means it came back. */
  looped(request: SipRequest): boolean {
    const marker = MAGIC_COOKIE + loopHash(request);
    const sentBy = this.#identity.sentBy();
    return headers(request, 'Via').some((value) => {
      const via = parseVia(value);
      if (!via) return false;
      const host = via.port === undefined ? via.host : `${via.host}:${via.port}`;
      return host === sentBy && (viaParam(via, 'branch') ?? '').startsWith(marker);
    });
  }

  /**
   * Route information preprocessing (RFC 3261 §16.4). A Request-URI that is our own
   * Record-Route URI was put there by a strict router (RFC 2543) upstream: the real target is
   * the last Route value, which moves back into the Request-URI. Then every top Route naming us
   * (loose routing; two of them after double record-routing) is removed.
   */
  preprocess(request: SipRequest): SipRequest {
    const routes = headers(request, 'Route');
    const uri = parseUri(request.uri);
    const last = routes.length > 0 ? parseNameAddr(routes[routes.length - 1] as string) : undefined;
    const unstricted =
      uri && last && this.#isOwnRecordRoute(uri)
        ? withoutLastRoute({ ...request, uri: last.uri.withoutHeaders })
        : request;
    return this.#withoutOwnRoutes(unstricted);
  }

  /**
   * Where a request goes: an address-of-record of our domain only ever through the registrar's
   * bindings; any other URI only when it is a contact one of our clients sent, and in a dialog
   * only the other party's.
   */
  resolve(request: SipRequest, scope: ContactScope): Resolution {
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

  /**
   * Our Record-Route values for a request from `inbound` forwarded on `outbound`, to prepend in
   * this order (RFC 3261 §16.6 step 4). Each names the transport of the connection its side of
   * the dialog reaches us on (WS or WSS, RFC 7118 §5.2); when the two differ, the proxy
   * record-routes twice (RFC 5658 §4), so that each side's route set starts with its own. Each
   * carries the token that binds the dialog to its two parties when we have a key.
   */
  recordRoutes(request: SipRequest, inbound: Flow, outbound: Flow): string[] {
    const token = this.#dialogTokens && `;${DIALOG_TOKEN_PARAM}=${this.#dialogTokens.signRequest(request)}`;
    const value = (flow: Flow) =>
      `<sip:${this.#identity.sentBy()};transport=${flow.transport.toLowerCase()};lr${token ?? ''}>`;
    const outer = value(outbound);
    const inner = value(inbound);
    return outer === inner ? [outer] : [outer, inner];
  }

  /** A URI this proxy puts into Record-Route: our host and port, no user, `lr`. */
  #isOwnRecordRoute(uri: SipUri): boolean {
    return uri.user === undefined && 'lr' in uri.params && this.#identity.isOwnRoute(uri);
  }

  #withoutOwnRoutes(request: SipRequest): SipRequest {
    const top = header(request, 'Route');
    if (top === undefined) return request;
    const route = parseNameAddr(top);
    if (!route || !this.#identity.isOwnRoute(route.uri)) return request;
    return this.#withoutOwnRoutes(withoutFirstHeader(request, 'Route'));
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
}

/** A copy of the request without its last Route field. */
function withoutLastRoute(request: SipRequest): SipRequest {
  const at = request.headers.map((h) => h.name).lastIndexOf('Route');
  return at === -1 ? request : { ...request, headers: request.headers.filter((_, i) => i !== at) };
}
