import { Emitter } from './emitter.js';

/** A transition that the state machine's table does not list. */
export class StateTransitionError extends Error {
  override name = 'StateTransitionError';
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(`invalid state transition from "${from}" to "${to}"`);
  }
}

export interface StateMachineOptions<S extends string> {
  initial: S;
  /** Every allowed transition, as data. */
  transitions: ReadonlyArray<readonly [from: S, to: S]>;
  /** How long each state may last, in ms; `onTimeout` is called when one runs out. */
  timeouts?: Partial<Record<S, number>>;
  onTimeout?: (state: S) => void;
}

/**
 * A state with its allowed transitions as a table, a `stateChange` emitter, a timer for every
 * state that has a timeout, and StateTransitionError for any other move.
 */
export class StateMachine<S extends string> {
  readonly stateChange = new Emitter<S>();
  #state: S;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #allowed: ReadonlySet<string>;

  constructor(private readonly options: StateMachineOptions<S>) {
    this.#state = options.initial;
    this.#allowed = new Set(options.transitions.map(([from, to]) => `${from}>${to}`));
    this.#arm();
  }

  get state(): S {
    return this.#state;
  }

  canMoveTo(to: S): boolean {
    return this.#allowed.has(`${this.#state}>${to}`);
  }

  transition(to: S): void {
    if (!this.canMoveTo(to)) throw new StateTransitionError(this.#state, to);
    this.#state = to;
    this.#arm();
    this.stateChange.emit(to);
  }

  /** Stops the current state's timer (the machine is being thrown away). */
  dispose(): void {
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    const ms = this.options.timeouts?.[this.#state];
    if (ms === undefined) return;
    const state = this.#state;
    this.#timer = setTimeout(() => {
      if (this.#state === state) this.options.onTimeout?.(state);
    }, ms);
  }
}
