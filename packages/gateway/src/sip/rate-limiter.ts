/**
 * A token bucket: `rate` tokens a second up to `burst`. `take()` says whether a message may pass;
 * `exhausted` tells a client far past its allowance, whose connection is closed.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  take(): boolean {
    const now = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0;
  }

  /** More than a whole extra burst was refused. */
  get exhausted(): boolean {
    return this.#tokens < -this.burst;
  }
}
