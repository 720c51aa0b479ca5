/** RFC 3261 §17.1.1.1 T1 and T2: the round-trip estimate and the longest non-INVITE interval. */
const T1_MS = 500;
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
 */
export class UdpRetransmissions {
  readonly #pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly send: (bytes: string) => void) {}

  get size(): number {
    return this.#pending.size;
  }

  start(branch: string, bytes: string, invite: boolean): void {
    if (this.#pending.has(branch)) return;
    if (this.#pending.size >= MAX_PENDING) this.answered(this.#pending.keys().next().value as string);
    const started = Date.now();
    const schedule = (interval: number) => {
      const timer = setTimeout(() => {
        if (Date.now() - started >= GIVE_UP_MS) {
          this.#pending.delete(branch);
          return;
        }
        this.send(bytes);
        schedule(invite ? interval * 2 : Math.min(interval * 2, T2_MS));
      }, interval);
      timer.unref();
      this.#pending.set(branch, timer);
    };
    schedule(T1_MS);
  }

  /** Anything came back for `branch`: for an INVITE a provisional answer is enough to stop. */
  answered(branch: string): void {
    clearTimeout(this.#pending.get(branch));
    this.#pending.delete(branch);
  }

  close(): void {
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }
}
