/**
 * The moments of a call's set-up, in ms since the dial (or since the INVITE arrived, for the
 * callee), so that anyone can see where the time went.
 */
export const WATERFALL_STEPS = [
  'dial',
  'offerReady',
  'inviteSent',
  'trying',
  'ringing',
  'answered',
  'ackSent',
  'iceConnected',
  'dtlsConnected',
  'firstRtp',
  // The first loss of the signalling connection in a live call, and the media back after it.
  'reconnecting',
  'reconnected',
] as const;

export type WaterfallStep = (typeof WATERFALL_STEPS)[number];

export class Waterfall {
  readonly #start = performance.now();
  readonly #marks = new Map<WaterfallStep, number>();

  /** Records a step the first time it happens; later repeats are ignored. */
  mark(step: WaterfallStep): void {
    if (!this.#marks.has(step)) this.#marks.set(step, Math.round(performance.now() - this.#start));
  }

  get(step: WaterfallStep): number | undefined {
    return this.#marks.get(step);
  }

  /** The recorded steps in set-up order. */
  entries(): Array<[WaterfallStep, number]> {
    return WATERFALL_STEPS.flatMap((step) =>
      this.#marks.has(step) ? [[step, this.#marks.get(step) as number]] : [],
    );
  }

  toString(): string {
    return this.entries()
      .map(([step, ms]) => `${step} ${ms} ms`)
      .join(' → ');
  }
}
