/** RFC 3261 §17.1.1.1 T1 and T2: the round-trip estimate and the longest non-INVITE interval. */
export const T1_MS = 500;
const T2_MS = 4000;
/** Timers B and F: a request is given up after 64·T1. */
const GIVE_UP_MS = 64 * T1_MS;
const MAX_PENDING = 10_000;

/**
 * Timers A and E (RFC 3261 §17.1.1.2, §17.1.2.2) for requests the relay carries onto UDP for
 * clients on WebSockets. Those clients never retransmit (their transport is reliable), so a
 * datagram lost between the gateway and the upstream would otherwise stall their request until
 * it times out. An INVITE is sent again at T1, 2·T1, 4·T1… until anything is answered; other
 * requests at T1, 2·T1… capped at T2 until their response comes.
 *
 * A transaction is its branch and its method: a CANCEL carries its INVITE's branch (RFC 3261
 * §9.1) yet is a transaction of its own (§17.1), retransmitted until its own 200 whatever the
 * INVITE's state, and an answer to one must not stop the other's timer.
 */
export class UdpRetransmissions {
  readonly #pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly send: (bytes: string) => void) {}

  get size(): number {
    return this.#pending.size;
  }

  start(branch: string, method: string, bytes: string): void {
    const key = transactionKey(branch, method);
    if (this.#pending.has(key)) return;
    if (this.#pending.size >= MAX_PENDING) this.#stop(this.#pending.keys().next().value as string);
    const invite = method === 'INVITE';
    const started = Date.now();
    const schedule = (interval: number) => {
      const timer = setTimeout(() => {
        if (Date.now() - started >= GIVE_UP_MS) {
          this.#pending.delete(key);
          return;
        }
        this.send(bytes);
        schedule(invite ? interval * 2 : Math.min(interval * 2, T2_MS));
      }, interval);
      timer.unref();
      this.#pending.set(key, timer);
    };
    schedule(T1_MS);
  }

  /**
   * Anything came back for the transaction of `branch` and `method` (the method of the response's
   * CSeq): for an INVITE a provisional answer is enough to stop.
   */
  answered(branch: string, method: string): void {
    this.#stop(transactionKey(branch, method));
  }

  #stop(key: string): void {
    clearTimeout(this.#pending.get(key));
    this.#pending.delete(key);
  }

  close(): void {
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }
}

/** A client transaction's key (RFC 3261 §17.1.3): the top Via's branch and the CSeq method. */
export function transactionKey(branch: string, method: string): string {
  return `${method} ${branch}`;
}
