import { Subscriber, SubscriptionState, type URI, type UserAgent } from 'sip.js';
import {
  type ContactPresence,
  contactPresence,
  type PresenceReport,
  pickableCall,
  type RingingCall,
  readDialogInfo,
  readPidf,
} from './presence.js';

/** Subscription length asked for, seconds; SIP.js refreshes before it runs out. */
const SUBSCRIPTION_EXPIRES = 600;
/**
 * After the server ended a subscription (a restart forgot it, a refresh failed), the watch tries
 * again this long after, ms, with up to a third more at random so that a restarted server is not
 * met by every watcher at once.
 */
const RESUBSCRIBE_MS = 30_000;

/**
 * One contact watched over two subscriptions (presence and dialog), folded into one lamp.
 * A subscription that ends (refused, timed out, its connection gone) leaves the lamp `unknown`
 * until the watch subscribes again: after RESUBSCRIBE_MS, or at once when the phone registers
 * again after a reconnection (`restart()`).
 */
export class PresenceWatch {
  #report: PresenceReport = { online: undefined, dialogs: undefined };
  #subscribers: Subscriber[] = [];
  #presence: ContactPresence = 'unknown';
  #retry: ReturnType<typeof setTimeout> | undefined;
  #pickable = false;

  constructor(
    private readonly ua: UserAgent,
    readonly target: URI,
    private readonly onChange: (presence: ContactPresence) => void,
  ) {}

  get presence(): ContactPresence {
    return this.#presence;
  }

  /** A call ringing for the contact that can be picked up, when the server tells enough. */
  get ringingCall(): RingingCall | undefined {
    return pickableCall(this.#report.dialogs);
  }

  /** (Re)subscribes to both packages, dropping what an earlier connection knew. */
  restart(): void {
    this.stop();
    this.#report = { online: undefined, dialogs: undefined };
    this.#update();
    this.#subscribers = (['presence', 'dialog'] as const).map((event) => this.#subscribe(event));
  }

  /**
   * Unsubscribes. SIP.js's UserAgent.stop() waits for a live subscription's end, which its
   * dialog never reports after an unsubscribe (0.21.2): a phone stops its watches first.
   */
  stop(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    for (const subscriber of this.#subscribers.splice(0)) {
      if (subscriber.state !== SubscriptionState.Terminated)
        void subscriber.unsubscribe().catch(() => undefined);
    }
  }

  #subscribe(event: 'presence' | 'dialog'): Subscriber {
    const subscriber = new Subscriber(this.ua, this.target, event, { expires: SUBSCRIPTION_EXPIRES });
    subscriber.delegate = {
      onNotify: (notification) => {
        void notification.accept();
        const body = notification.request.body;
        this.#report =
          event === 'presence'
            ? { ...this.#report, online: readPidf(body) }
            : { ...this.#report, dialogs: readDialogInfo(body) };
        this.#update();
      },
    };
    subscriber.stateChange.addListener((state) => {
      // Ended by the other side or by a failure: what we knew is no longer kept up to date.
      if (state === SubscriptionState.Terminated && this.#subscribers.includes(subscriber)) {
        this.#report = { online: undefined, dialogs: undefined };
        this.#update();
        this.#retry ??= setTimeout(() => this.restart(), RESUBSCRIBE_MS * (1 + Math.random() / 3));
      }
    });
    void subscriber.subscribe().catch(() => undefined);
    return subscriber;
  }

  #update(): void {
    const presence = contactPresence(this.#report);
    const pickable = this.ringingCall !== undefined;
    if (presence === this.#presence && pickable === this.#pickable) return;
    this.#presence = presence;
    this.#pickable = pickable;
    this.onChange(presence);
  }
}
