import { Subscriber, SubscriptionState, type URI, type UserAgent } from 'sip.js';

/** Subscription length asked for, seconds; SIP.js refreshes before it runs out. */
const SUBSCRIPTION_EXPIRES = 600;
/**
 * After the server ended a subscription (a restart forgot it, a refresh failed), a watch tries
 * again this long after, ms, with up to a third more at random so that a restarted server is not
 * met by every watcher at once.
 */
const RESUBSCRIBE_MS = 30_000;

export function resubscribeDelay(): number {
  return RESUBSCRIBE_MS * (1 + Math.random() / 3);
}

/** What a watch hears of one subscription (RFC 6665). */
export interface SubscriptionHandlers {
  /** A NOTIFY's body (already accepted with 200). */
  notified(body: string): void;
  /** The subscription ended: refused, timed out, ended by the server or its connection gone. */
  ended(): void;
}

/** Subscribes to `event` of `target`; every NOTIFY and the end go to `handlers`. */
export function subscribe(
  ua: UserAgent,
  target: URI,
  event: string,
  handlers: SubscriptionHandlers,
): Subscriber {
  const subscriber = new Subscriber(ua, target, event, { expires: SUBSCRIPTION_EXPIRES });
  subscriber.delegate = {
    onNotify: (notification) => {
      void notification.accept();
      handlers.notified(notification.request.body);
    },
  };
  subscriber.stateChange.addListener((state) => {
    if (state === SubscriptionState.Terminated) handlers.ended();
  });
  void subscriber.subscribe().catch(() => undefined);
  return subscriber;
}

/**
 * Unsubscribes, if still subscribed. SIP.js's UserAgent.stop() waits for a live subscription's
 * end, which its dialog never reports after an unsubscribe (0.21.2): a phone stops its watches first.
 */
export function unsubscribe(subscriber: Subscriber): void {
  if (subscriber.state !== SubscriptionState.Terminated) void subscriber.unsubscribe().catch(() => undefined);
}
