/** A typed event of one payload, in the shape of SIP.js's `Emitter` (addListener / removeListener). */
export class Emitter<T> {
  readonly #listeners = new Set<(value: T) => void>();

  addListener(listener: (value: T) => void): void {
    this.#listeners.add(listener);
  }

  removeListener(listener: (value: T) => void): void {
    this.#listeners.delete(listener);
  }

  /** Calls every listener; one that throws is reported and cannot stop the others. */
  emit(value: T): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(value);
      } catch (error) {
        console.error('listener failed', error);
      }
    }
  }
}
