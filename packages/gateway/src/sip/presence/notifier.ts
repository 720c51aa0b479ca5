import { parseNameAddr } from '../address.js';
import { AGENT } from '../dialog-rules.js';
import type { Flow } from '../flow.js';
import type { Logger } from '../logger.js';
import { detached, header, type SipHeaderField, type SipRequest, type SipResponse } from '../message.js';
import { MAGIC_COOKIE } from '../proxy/branch-id.js';
import { randomToken } from '../random-token.js';
import { createResponse, newTag, warning } from '../responses.js';
import { serializeSipMessage } from '../serializer.js';
import { SetIndex } from '../set-index.js';
import { eventPackage } from '../subscription-rules.js';
import { parseVia, viaParam } from '../via.js';
import type { PresenceBook, UserPresence } from './presence-book.js';
import { EVENT_PACKAGES, type EventPackage, isEventPackage } from './presence-documents.js';
import { SubscriptionCounts, type Watcher } from './subscription-limits.js';

/** Branches of the NOTIFYs the notifier sends, so that their answers find their way back here. */
export const NOTIFY_BRANCH_PREFIX = `${MAGIC_COOKIE}.ntfy.`;

/** Subscription lengths (RFC 6665 §4.2.1.1): RFC 4235 and RFC 3856 both default to an hour. */
export const SUBSCRIPTION_EXPIRES = { min: 60, default: 3600, max: 3600 };
/** Timer F for a NOTIFY over a reliable transport: no answer by then ends the subscription. */
export const NOTIFY_TIMEOUT_MS = 32_000;

interface Subscription {
  key: string;
  flow: Flow;
  /** The user whose presence is watched (the request's user, in our domain). */
  target: string;
  event: EventPackage;
  /** The Event value of its NOTIFYs: the package, and the SUBSCRIBE's `id` echoed (RFC 6665 §8.2.1). */
  eventValue: string;
  callId: string;
  /** Our side of the dialog: the SUBSCRIBE's To, with the tag we chose. */
  local: string;
  /** The watcher's side: the SUBSCRIBE's From, with its tag. */
  remote: string;
  /** Where NOTIFYs go: the watcher's Contact. */
  remoteTarget: string;
  /** Who holds it, as the subscription limits count it. */
  watcher: Watcher;
  cseq: number;
  version: number;
  expiresAt: number;
  timer: NodeJS.Timeout | undefined;
  /**
   * Branches of this subscription's NOTIFYs still waiting for an answer: one for changes at most,
   * and the one a refresh of the watcher's own asks for.
   */
  pending: Set<string>;
  /** The watched user changed since the last NOTIFY's document was made. */
  stale: boolean;
}

type Reject = (status: number, text: string, extra?: SipHeaderField[]) => void;

export interface NotifierDependencies {
  book: PresenceBook;
  /** The registrar's domain: only its users are watched here. */
  domain: string;
  /** host:port for Via and Contact. */
  sentBy: () => string;
  log: Logger;
  /** The number of live subscriptions changed (for a gauge). */
  counted: (count: number) => void;
}

/**
 * The notifier of the embedded registrar (RFC 6665 §4.2): takes SUBSCRIBEs for the presence and
 * dialog packages of the domain's users (within the limits of subscription-limits.ts), keeps each
 * subscription as a dialog on the watcher's flow, and tells it the watched user's changes.
 * Both packages send full state with a version (RFC 4235 §4.1.2, RFC 3856 §6.2) so a document
 * may be skipped: a subscription has at most one NOTIFY for changes waiting for its answer, and
 * the changes made meanwhile are told once, when the answer comes, with the state as it is then.
 * A watcher that answers at once is told each change as it happens (RFC 3856 §6.4's one NOTIFY
 * per five seconds would make a ringing lamp too late to pick the call up); one that is slow, or
 * that stops answering, costs one NOTIFY and one timer however often its user changes.
 * Subscriptions end with their flow, their expiry, an unsubscribe, or a NOTIFY refused or
 * unanswered (Timer F).
 */
export class Notifier {
  readonly #byKey = new Map<string, Subscription>();
  readonly #byTarget = new SetIndex<string, Subscription>();
  readonly #byFlow = new SetIndex<string, Subscription>();
  readonly #counts = new SubscriptionCounts();
  readonly #pendingNotifies = new Map<string, { subscription: Subscription; timer: NodeJS.Timeout }>();

  constructor(private readonly deps: NotifierDependencies) {}

  /** A SUBSCRIBE inside one of the notifier's own dialogs (a refresh or an unsubscribe). */
  ownsDialog(request: SipRequest): boolean {
    return this.#byKey.has(dialogKey(request) ?? '');
  }

  /**
   * A SUBSCRIBE inside a dialog sent straight to us: a dialog the proxy routed would carry our
   * Record-Route in its Route set, so one without a Route can only be a subscription's.
   */
  addressedInDialog(request: SipRequest): boolean {
    return dialogKey(request) !== undefined && header(request, 'Route') === undefined;
  }

  /**
   * An initial SUBSCRIBE the notifier answers: any for a user of its domain, where a package it
   * does not serve (message-summary: there is no voicemail here) gets 489 rather than travelling
   * to the user's own phones.
   */
  serves(request: SipRequest): boolean {
    const to = parseNameAddr(header(request, 'To') ?? '');
    if (!to || to.params.tag !== undefined) return false;
    const target = parseNameAddr(`<${request.uri}>`)?.uri;
    return target?.user !== undefined && target.host === this.deps.domain.toLowerCase();
  }

  /** A new subscription from a proven watcher (or anyone in anonymous mode). */
  subscribe(request: SipRequest, flow: Flow): void {
    const reject = this.#rejecter(flow, request);
    const event = eventPackage(request);
    if (!isEventPackage(event)) {
      return reject(489, 'only presence and dialog are served here', [
        { name: 'Allow-Events', value: Object.keys(EVENT_PACKAGES).join(', ') },
      ]);
    }
    const accepted = header(request, 'Accept');
    if (accepted !== undefined && !accepts(accepted, EVENT_PACKAGES[event].contentType)) {
      return reject(406, `${event} is sent as ${EVENT_PACKAGES[event].contentType}`);
    }
    const expires = this.#expires(request, reject);
    if (expires === undefined) return;
    const contact = parseNameAddr(header(request, 'Contact') ?? '');
    const from = parseNameAddr(header(request, 'From') ?? '');
    if (!contact || !from?.params.tag) return reject(400, 'SUBSCRIBE needs a Contact and a From tag');
    const target = parseNameAddr(`<${request.uri}>`)?.uri.user as string;
    const watcher: Watcher = {
      flowId: flow.id,
      user: detached(from.uri.user ?? ''),
      address: flow.remoteAddress,
    };
    const limit = this.#counts.exceeded(watcher);
    if (limit) {
      // Subscriptions end (an hour at most): the watcher may try again once some of its own have.
      this.deps.log.debug({ ...watcher, max: limit.max }, 'subscription refused: limit reached');
      return reject(503, `too many subscriptions of ${limit.of(watcher)} (${limit.max})`, [
        { name: 'Retry-After', value: '60' },
      ]);
    }
    const localTag = newTag();
    const callId = detached(header(request, 'Call-ID') as string);
    const subscription: Subscription = {
      key: `${callId}\n${localTag}`,
      flow,
      target: detached(target),
      event,
      eventValue: detached(`${event}${eventIdParam(request)}`),
      callId,
      local: `${detached(header(request, 'To') as string)};tag=${localTag}`,
      remote: detached(header(request, 'From') as string),
      remoteTarget: detached(contact.uri.withoutHeaders),
      watcher,
      cseq: 0,
      version: 0,
      expiresAt: 0,
      timer: undefined,
      pending: new Set(),
      stale: false,
    };
    this.#send(flow, createResponse(request, 200, this.#okHeaders(expires), undefined, localTag));
    if (expires === 0) {
      // A fetch (RFC 6665 §4.4.3): one NOTIFY with the state, and the subscription is over. No
      // reason: `timeout` would invite the watcher to subscribe again (SIP.js does at once).
      this.#notify(subscription, 'terminated');
      return;
    }
    this.#add(subscription);
    this.#arm(subscription, expires);
    this.#notify(subscription, `active;expires=${expires}`);
    this.deps.log.info({ callId, event, target, flowId: flow.id }, 'subscription added');
  }

  /** A refresh or unsubscribe inside a subscription; only the flow that made it may change it. */
  resubscribe(request: SipRequest, flow: Flow): void {
    const subscription = this.#byKey.get(dialogKey(request) ?? '');
    const reject = this.#rejecter(flow, request);
    if (!subscription || subscription.flow.id !== flow.id) return reject(481, 'no such subscription');
    const expires = this.#expires(request, reject);
    if (expires === undefined) return;
    this.#send(flow, createResponse(request, 200, this.#okHeaders(expires)));
    if (expires === 0) {
      this.#remove(subscription);
      this.#notify(subscription, 'terminated');
      return;
    }
    this.#arm(subscription, expires);
    this.#notify(subscription, `active;expires=${expires}`);
  }

  /** The watched user's state changed: every watcher gets the new full state, now or soon. */
  changed(user: string): void {
    const watchers = this.#byTarget.get(user);
    if (watchers.length === 0) return;
    // One look at the user's state for all their watchers.
    const presence = this.deps.book.of(user);
    for (const subscription of watchers) {
      subscription.stale = true;
      this.#release(subscription, presence);
    }
  }

  /** The watcher's answer to a NOTIFY; a failure ends the subscription (RFC 6665 §4.1.3). */
  response(response: SipResponse): void {
    const via = parseVia(header(response, 'Via') ?? '');
    const branch = (via && viaParam(via, 'branch')) ?? '';
    const pending = this.#pendingNotifies.get(branch);
    if (!pending || response.status < 200) return;
    this.#settle(branch);
    const { subscription } = pending;
    if (response.status >= 300) {
      this.deps.log.info(
        { callId: subscription.callId, status: response.status },
        'NOTIFY refused; subscription ended',
      );
      this.#remove(subscription);
    } else {
      this.#release(subscription);
    }
  }

  flowClosed(flowId: string): void {
    for (const subscription of this.#byFlow.get(flowId)) this.#remove(subscription);
  }

  close(): void {
    for (const subscription of [...this.#byKey.values()]) this.#remove(subscription);
  }

  /** Answers `request` on `flow` with an error status and a Warning saying why. */
  #rejecter(flow: Flow, request: SipRequest): Reject {
    return (status: number, text: string, extra: SipHeaderField[] = []) =>
      this.#send(flow, createResponse(request, status, [warning(AGENT, text), ...extra]));
  }

  #expires(request: SipRequest, reject: Reject) {
    const raw = header(request, 'Expires') ?? String(SUBSCRIPTION_EXPIRES.default);
    if (!/^\d{1,10}$/.test(raw)) {
      reject(400, 'malformed Expires');
      return undefined;
    }
    const asked = Number(raw);
    if (asked > 0 && asked < SUBSCRIPTION_EXPIRES.min) {
      reject(423, `expiry ${asked} s is below ${SUBSCRIPTION_EXPIRES.min} s`, [
        { name: 'Min-Expires', value: String(SUBSCRIPTION_EXPIRES.min) },
      ]);
      return undefined;
    }
    return Math.min(asked, SUBSCRIPTION_EXPIRES.max);
  }

  #okHeaders(expires: number): SipHeaderField[] {
    return [this.#contact(), { name: 'Expires', value: String(expires) }];
  }

  /** Our Contact in the subscription dialogs: where refreshes and unsubscribes come. */
  #contact(): SipHeaderField {
    return { name: 'Contact', value: `<sip:presence@${this.deps.sentBy()};transport=ws>` };
  }

  /**
   * Tells a subscription whose user changed the state as it is now, unless a NOTIFY of it waits
   * for its answer: then the answer calls this again.
   */
  #release(subscription: Subscription, presence?: UserPresence): void {
    if (!subscription.stale || subscription.pending.size > 0 || !this.#byKey.has(subscription.key)) return;
    const left = Math.max(1, Math.round((subscription.expiresAt - Date.now()) / 1000));
    this.#notify(subscription, `active;expires=${left}`, presence);
  }

  #add(subscription: Subscription): void {
    this.#byKey.set(subscription.key, subscription);
    this.#byTarget.add(subscription.target, subscription);
    this.#byFlow.add(subscription.flow.id, subscription);
    this.#counts.add(subscription.watcher);
    this.deps.counted(this.#byKey.size);
  }

  #remove(subscription: Subscription): void {
    clearTimeout(subscription.timer);
    if (!this.#byKey.delete(subscription.key)) return;
    this.#byTarget.delete(subscription.target, subscription);
    this.#byFlow.delete(subscription.flow.id, subscription);
    this.#counts.remove(subscription.watcher);
    for (const branch of subscription.pending) this.#settle(branch);
    this.deps.counted(this.#byKey.size);
  }

  #arm(subscription: Subscription, expires: number): void {
    clearTimeout(subscription.timer);
    subscription.expiresAt = Date.now() + expires * 1000;
    subscription.timer = setTimeout(() => {
      this.#remove(subscription);
      this.#notify(subscription, 'terminated;reason=timeout');
    }, expires * 1000);
    subscription.timer.unref();
  }

  #notify(
    subscription: Subscription,
    state: string,
    presence: UserPresence = this.deps.book.of(subscription.target),
  ): void {
    const { contentType, render } = EVENT_PACKAGES[subscription.event];
    const entity = `sip:${subscription.target}@${this.deps.domain}`;
    const body = render({ entity, presence, version: subscription.version });
    subscription.version += 1;
    subscription.cseq += 1;
    // Every NOTIFY carries the whole state as it is now: whatever changed before is told.
    subscription.stale = false;
    const branch = `${NOTIFY_BRANCH_PREFIX}${randomToken()}`;
    const notify: SipRequest = {
      kind: 'request',
      method: 'NOTIFY',
      uri: subscription.remoteTarget,
      headers: [
        {
          name: 'Via',
          value: `SIP/2.0/${subscription.flow.transport} ${this.deps.sentBy()};branch=${branch}`,
        },
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: subscription.local },
        { name: 'To', value: subscription.remote },
        { name: 'Call-ID', value: subscription.callId },
        { name: 'CSeq', value: `${subscription.cseq} NOTIFY` },
        this.#contact(),
        { name: 'Event', value: subscription.eventValue },
        { name: 'Subscription-State', value: state },
        { name: 'Content-Type', value: contentType },
      ],
      body,
    };
    if (this.#byKey.has(subscription.key)) {
      const timer = setTimeout(() => {
        this.deps.log.info({ callId: subscription.callId }, 'NOTIFY unanswered; subscription ended');
        this.#remove(subscription);
      }, NOTIFY_TIMEOUT_MS);
      timer.unref();
      this.#pendingNotifies.set(branch, { subscription, timer });
      subscription.pending.add(branch);
    }
    this.#send(subscription.flow, notify);
  }

  /** A NOTIFY was answered, or its subscription ended: stop waiting for it. */
  #settle(branch: string): void {
    const pending = this.#pendingNotifies.get(branch);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pendingNotifies.delete(branch);
    pending.subscription.pending.delete(branch);
  }

  #send(flow: Flow, message: SipRequest | SipResponse): void {
    flow.send(serializeSipMessage(message));
  }
}

/** `;id=…` when the SUBSCRIBE's Event has an id, which every NOTIFY must echo (RFC 6665 §8.2.1). */
function eventIdParam(request: SipRequest): string {
  const id = /;\s*id\s*=\s*([^;\s]+)/i.exec(header(request, 'Event') ?? '')?.[1];
  return id === undefined ? '' : `;id=${id}`;
}

/** Whether an Accept header takes a content type (an empty Accept takes nothing). */
function accepts(accept: string, contentType: string): boolean {
  return accept
    .split(',')
    .map((range) => range.split(';')[0]?.trim().toLowerCase())
    .some((range) => range === contentType || range === '*/*' || range === `${contentType.split('/')[0]}/*`);
}

/** Call-ID and our tag (the To tag of a request inside the dialog) identify a subscription. */
function dialogKey(request: SipRequest): string | undefined {
  const tag = parseNameAddr(header(request, 'To') ?? '')?.params.tag;
  return tag ? `${header(request, 'Call-ID')}\n${tag}` : undefined;
}
