import type { Subscriber, URI, UserAgent } from 'sip.js';
import { resubscribeDelay, subscribe, unsubscribe } from './event-subscription.js';
import {
  type ContactPresence,
  contactPresence,
  type PresenceReport,
  pickableCall,
  type RingingCall,
  readDialogInfo,
  readPidf,
} from './presence.js';

/**
 * One contact watched over two subscriptions (presence and dialog), folded into one lamp.
 * A subscription that ends (refused, timed out, its connection gone) leaves the lamp `unknown`
 * until the watch subscribes again: after resubscribeDelay(), or at once when the phone registers
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

  /** Unsubscribes from both. */
  stop(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    for (const subscriber of this.#subscribers.splice(0)) unsubscribe(subscriber);
  }

  #subscribe(event: 'presence' | 'dialog'): Subscriber {
    const subscriber: Subscriber = subscribe(this.ua, this.target, event, {
      notified: (body) => {
        this.#report =
          event === 'presence'
            ? { ...this.#report, online: readPidf(body) }
            : { ...this.#report, dialogs: readDialogInfo(body) };
        this.#update();
      },
      ended: () => {
        // Ended by the other side or by a failure: what we knew is no longer kept up to date.
        if (!this.#subscribers.includes(subscriber)) return;
        this.#report = { online: undefined, dialogs: undefined };
        this.#update();
        this.#retry ??= setTimeout(() => this.restart(), resubscribeDelay());
      },
    });
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
