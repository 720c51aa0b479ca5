import type { GatewayMetrics } from '../metrics.js';
import { guestRefusal } from '../sessions/guest-scope.js';
import { parseNameAddr, parseUri, type SipUri } from './address.js';
import type { DigestAuthenticator } from './auth/digest.js';
import { AGENT, isInitial } from './dialog-rules.js';
import type { Flow } from './flow.js';
import type { FlowTable } from './flow-table.js';
import type { Logger } from './logger.js';
import { detached, header, type SipHeaderField, type SipMessage, type SipRequest } from './message.js';
import { DIALOG_TOKEN_PARAM, type DialogTokens } from './proxy/dialog-token.js';
import type { ContactScope } from './proxy/proxy-core.js';
import { createResponse, warning } from './responses.js';
import { serializeSipMessage } from './serializer.js';

/** Who sent a request that may go on, and whose contacts it may reach. */
export interface Admission {
  /** The user the sender proved to be; undefined in anonymous mode or for CANCEL. */
  sender: string | undefined;
  scope: ContactScope;
}

/**
 * Who may send what, in embedded mode: the one place that decides whether a client's request is
 * authenticated (digest, or the user its connection proved), whether an in-dialog request belongs
 * to a dialog this gateway routed, and whether a call-link guest may send or receive it — as
 * Kamailio keeps `auth` apart from `tm` and `rr`. Each check answers the client itself (challenge,
 * 403, 503) when the request may not go on. Without an authenticator (anonymous loopback mode)
 * nothing is proven, so everything is admitted but the guests' rule.
 */
export class RequestAdmission {
  constructor(
    private readonly options: {
      authenticator: DigestAuthenticator | undefined;
      /** Signs and checks the dialog tokens in our Record-Routes; undefined in anonymous mode. */
      dialogs: DialogTokens | undefined;
      flows: FlowTable;
      /** Whether a Route URI names this gateway. */
      isOwnRoute: (uri: SipUri) => boolean;
      metrics: GatewayMetrics;
      log: Logger;
    },
  ) {}

  /** Whether credentials are checked at all (not in anonymous mode). */
  get required(): boolean {
    return this.options.authenticator !== undefined;
  }

  /**
   * A REGISTER's user, proven by its Authorization (401 challenge otherwise); undefined in
   * anonymous mode. False when the REGISTER was answered here and must go no further.
   */
  registrant(flow: Flow, request: SipRequest): string | undefined | false {
    if (!this.options.authenticator) return undefined;
    return this.#check(flow, request, 'Authorization', 401, 'WWW-Authenticate') ?? false;
  }

  /**
   * Whether a request may go on, and as whom; answers (or drops an ACK) itself when not. A new
   * request must be authenticated as its From user; a request inside a dialog must carry the
   * dialog token of our Record-Route, come from one of the dialog's two parties, and may only
   * reach the other's contacts. A guest's initial requests are held to guest-scope.ts.
   */
  admit(flow: Flow, request: SipRequest): Admission | undefined {
    const admitted = this.#authenticated(flow, request);
    if (!admitted) return undefined;
    return this.guestRefused(flow, request, admitted.sender ?? fromUser(request)) ? undefined : admitted;
  }

  /** The watcher of a SUBSCRIBE: proven like the sender of a call, and held to the guests' rule. */
  watcher(flow: Flow, request: SipRequest): { user: string | undefined } | undefined {
    const user = this.options.authenticator ? this.#authorize(flow, request) : fromUser(request);
    if (this.options.authenticator && user === undefined) return undefined;
    return this.guestRefused(flow, request, user) ? undefined : { user };
  }

  #authenticated(flow: Flow, request: SipRequest): Admission | undefined {
    if (!this.options.authenticator) return { sender: undefined, scope: 'any' };
    if (request.method === 'CANCEL') return { sender: undefined, scope: 'any' };
    const isAck = request.method === 'ACK';
    if (isInitial(request)) {
      if (isAck) return undefined;
      const user = this.#authorize(flow, request);
      return user === undefined ? undefined : { sender: user, scope: 'any' };
    }
    const token = this.#ownRouteParam(request, DIALOG_TOKEN_PARAM);
    if (token === undefined || !this.options.dialogs?.verifyRequest(token, request)) {
      this.options.metrics.rejected.inc({ reason: 'dialog' });
      if (!isAck) this.#reply(flow, request, 403, 'not in a dialog this gateway routed');
      return undefined;
    }
    const scope = { owner: parseNameAddr(header(request, 'To') ?? '')?.uri.user };
    const sender = fromUser(request);
    if (flow.authenticatedUser !== undefined && flow.authenticatedUser === sender) return { sender, scope };
    if (isAck) return undefined;
    const user = this.#authorize(flow, request);
    return user === undefined ? undefined : { sender: user, scope };
  }

  /**
   * Answers 403 to an initial request a call-link guest may not send or receive (guest-scope.ts).
   * Its target is the Request-URI's user, or the owner of the contact it names.
   */
  guestRefused(flow: Flow, request: SipRequest, sender: string | undefined): boolean {
    if (request.method === 'ACK' || request.method === 'CANCEL' || !isInitial(request)) return false;
    const uri = parseUri(request.uri);
    const target = uri && (this.options.flows.contact(uri.user, uri.host)?.owner ?? uri.user);
    const refusal = guestRefusal(request.method, sender, target);
    if (refusal === undefined) return false;
    this.options.metrics.rejected.inc({ reason: 'scope' });
    this.#reply(flow, request, 403, refusal);
    return true;
  }

  /**
   * A parameter of our own Record-Route as the request carries it back: its top Route, or its
   * Request-URI when a strict router before us put it there (RFC 3261 §16.4).
   */
  #ownRouteParam(request: SipRequest, name: string): string | undefined {
    const target = parseUri(request.uri);
    if (target && target.user === undefined && 'lr' in target.params && this.options.isOwnRoute(target))
      return target.params[name] ?? undefined;
    const route = parseNameAddr(header(request, 'Route') ?? '');
    if (!route || !this.options.isOwnRoute(route.uri)) return undefined;
    return route.uri.params[name] ?? undefined;
  }

  /**
   * The user a request is sent by, once proven: the flow's own (registered) user, or digest
   * credentials of the From user. Answers 407/403 itself and returns undefined when not.
   */
  #authorize(flow: Flow, request: SipRequest): string | undefined {
    const claimed = fromUser(request);
    // A flow that proved this user needs no second challenge per request: the WebSocket
    // connection is the proven identity (as Kamailio does for WS clients authenticated at REGISTER).
    if (flow.authenticatedUser !== undefined && flow.authenticatedUser === claimed) return claimed;
    const user = this.#check(flow, request, 'Proxy-Authorization', 407, 'Proxy-Authenticate');
    if (user === undefined) return undefined;
    if (user !== claimed) {
      this.#reply(flow, request, 403, `${user} may not send as ${claimed ?? 'nobody'}`);
      return undefined;
    }
    // The flow has proven this user: its in-dialog requests (and its ACK, which cannot be
    // challenged) need no second proof.
    flow.authenticatedUser ??= detached(user);
    return user;
  }

  /**
   * Verifies digest credentials; on failure sends a challenge (or, past the limits on wrong
   * passwords, 503 with Retry-After) and returns undefined.
   */
  #check(
    flow: Flow,
    request: SipRequest,
    credentialHeader: string,
    status: 401 | 407,
    challengeHeader: string,
  ): string | undefined {
    const { metrics, log } = this.options;
    const authenticator = this.options.authenticator as DigestAuthenticator;
    const credential = header(request, credentialHeader);
    let stale = false;
    if (credential !== undefined) {
      const result = authenticator.authenticate(
        { method: request.method, uri: request.uri, connection: flow.id, address: flow.remoteAddress },
        credential,
      );
      if (result.ok) return result.user;
      const callId = header(request, 'Call-ID');
      if ('retryAfterMs' in result) {
        // Not 403, after which a phone stops for good; 503 with Retry-After (RFC 3261 §21.5.4)
        // tells an honest client when to try again. The words do not say whether the user or
        // the address is limited: the former would tell that such a user exists.
        const seconds = Math.ceil(result.retryAfterMs / 1000);
        metrics.rejected.inc({ reason: 'auth-limit' });
        log.info({ callId, flowId: flow.id, reason: result.reason }, 'authentication refused unchecked');
        this.#reply(flow, request, 503, `too many wrong passwords; retry in ${seconds} s`, [
          { name: 'Retry-After', value: String(seconds) },
        ]);
        return undefined;
      }
      stale = result.stale;
      metrics.rejected.inc({ reason: 'auth' });
      log.info({ callId, reason: result.reason }, 'authentication failed');
    }
    const challenges = authenticator
      .challenges({ stale, connection: flow.id })
      .map((value) => ({ name: challengeHeader, value }));
    send(flow, createResponse(request, status, challenges));
    return undefined;
  }

  #reply(flow: Flow, request: SipRequest, status: number, text: string, extra: SipHeaderField[] = []): void {
    send(flow, createResponse(request, status, [warning(AGENT, text), ...extra]));
  }
}

function fromUser(request: SipRequest): string | undefined {
  return parseNameAddr(header(request, 'From') ?? '')?.uri.user;
}

function send(flow: Flow, message: SipMessage): void {
  flow.send(serializeSipMessage(message));
}
