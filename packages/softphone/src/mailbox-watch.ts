import type { Subscriber, URI, UserAgent } from 'sip.js';
import { resubscribeDelay, subscribe, unsubscribe } from './event-subscription.js';
import { type MessageSummary, readMessageSummary } from './message-summary.js';

/**
 * The phone's own voicemail box, watched over a message-summary subscription to its own address
 * (RFC 3842). A server without voicemail refuses it (the gateway's embedded mode answers 489):
 * then the summary stays undefined and the watch asks again only at the next `restart()` (a new
 * registration), not on a timer. One that ended after it had worked is asked again after
 * resubscribeDelay(), as contacts' watches are.
 */
export class MailboxWatch {
  #subscriber: Subscriber | undefined;
  #summary: MessageSummary | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ua: UserAgent,
    private readonly aor: URI,
    private readonly onChange: (summary: MessageSummary | undefined) => void,
  ) {}

  get summary(): MessageSummary | undefined {
    return this.#summary;
  }

  /** (Re)subscribes, dropping what an earlier connection knew. */
  restart(): void {
    this.stop();
    this.#set(undefined);
    let heard = false;
    const subscriber: Subscriber = subscribe(this.ua, this.aor, 'message-summary', {
      notified: (body) => {
        const summary = readMessageSummary(body);
        if (!summary) return;
        heard = true;
        this.#set(summary);
      },
      ended: () => {
        if (subscriber !== this.#subscriber) return;
        this.#subscriber = undefined;
        this.#set(undefined);
        if (heard) this.#retry = setTimeout(() => this.restart(), resubscribeDelay());
      },
    });
    this.#subscriber = subscriber;
  }

  stop(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber) unsubscribe(subscriber);
  }

  #set(summary: MessageSummary | undefined): void {
    // A refresh's NOTIFY repeats the summary: only a change is told.
    const same = JSON.stringify(summary) === JSON.stringify(this.#summary);
    this.#summary = summary;
    if (!same) this.onChange(summary);
  }
}
