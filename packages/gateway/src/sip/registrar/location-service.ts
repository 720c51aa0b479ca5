import type { Binding } from './binding.js';

/** Addresses-of-record remembered as known (for 480 against 404) at most; the oldest go first. */
const MAX_KNOWN = 100_000;

/**
 * The location service: bindings by address-of-record, each with an expiry timer, and an index
 * by flow so that the bindings of a closed WebSocket can be removed at once.
 */
export class LocationService {
  readonly #byAor = new Map<string, Map<string, Binding>>();
  readonly #byFlow = new Map<string, Set<Binding>>();
  readonly #timers = new Map<Binding, NodeJS.Timeout>();
  /** Every AoR that ever registered, to tell 480 (known, not reachable now) from 404. */
  readonly #known = new Set<string>();

  constructor(
    private readonly onChange: (count: number) => void = () => {},
    /** An AoR got its first binding or lost its last one (it came online or went offline). */
    private readonly onAorChange: (aor: string) => void = () => {},
  ) {}

  get size(): number {
    return this.#timers.size;
  }

  isKnown(aor: string): boolean {
    return this.#known.has(aor);
  }

  markKnown(aor: string): void {
    if (this.#known.has(aor)) return;
    if (this.#known.size >= MAX_KNOWN) this.#known.delete(this.#known.values().next().value as string);
    this.#known.add(aor);
  }

  lookup(aor: string): Binding[] {
    return [...(this.#byAor.get(aor)?.values() ?? [])];
  }

  find(aor: string, key: string): Binding | undefined {
    return this.#byAor.get(aor)?.get(key);
  }

  all(): Binding[] {
    return [...this.#byAor.values()].flatMap((bindings) => [...bindings.values()]);
  }

  upsert(binding: Binding): void {
    const previous = this.find(binding.aor, binding.key);
    if (previous) this.#clearTimer(previous);
    let bindings = this.#byAor.get(binding.aor);
    const cameOnline = !bindings;
    if (!bindings) {
      bindings = new Map();
      this.#byAor.set(binding.aor, bindings);
    }
    bindings.set(binding.key, binding);
    if (previous) this.#byFlow.get(previous.flowId)?.delete(previous);
    let ofFlow = this.#byFlow.get(binding.flowId);
    if (!ofFlow) {
      ofFlow = new Set();
      this.#byFlow.set(binding.flowId, ofFlow);
    }
    ofFlow.add(binding);
    this.markKnown(binding.aor);
    const timer = setTimeout(() => this.remove(binding), Math.max(0, binding.expiresAt - Date.now()));
    timer.unref();
    this.#timers.set(binding, timer);
    this.onChange(this.size);
    if (cameOnline) this.onAorChange(binding.aor);
  }

  remove(binding: Binding): void {
    const bindings = this.#byAor.get(binding.aor);
    if (bindings?.get(binding.key) !== binding) return;
    bindings.delete(binding.key);
    if (bindings.size === 0) this.#byAor.delete(binding.aor);
    const ofFlow = this.#byFlow.get(binding.flowId);
    ofFlow?.delete(binding);
    if (ofFlow?.size === 0) this.#byFlow.delete(binding.flowId);
    this.#clearTimer(binding);
    this.onChange(this.size);
    if (bindings.size === 0) this.onAorChange(binding.aor);
  }

  removeFlow(flowId: string): number {
    const gone = [...(this.#byFlow.get(flowId) ?? [])];
    for (const binding of gone) this.remove(binding);
    return gone.length;
  }

  clear(): void {
    for (const binding of this.all()) this.remove(binding);
  }

  #clearTimer(binding: Binding): void {
    clearTimeout(this.#timers.get(binding));
    this.#timers.delete(binding);
  }
}
