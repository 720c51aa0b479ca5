/**
 * The output of a phone driven on its command line, kept whole so that a test can wait for a line
 * that was printed before it asked, or is still to come.
 */
export class ProcessOutput {
  #text = '';
  readonly #waiters = new Set<() => void>();

  constructor(
    private readonly name: string,
    private readonly echo = false,
  ) {}

  append(chunk: Buffer): void {
    this.#text += chunk.toString();
    if (this.echo) process.stderr.write(chunk);
    for (const wake of this.#waiters) wake();
  }

  /** Resolves with the first match of `pattern` in everything printed; rejects after `ms`. */
  printed(pattern: RegExp, ms = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(this.#text);
        if (!match) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(match[0]);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${this.name} never printed ${pattern} in ${ms} ms:\n${this.#text.slice(-3000)}`));
      }, ms);
      this.#waiters.add(check);
      check();
    });
  }
}
