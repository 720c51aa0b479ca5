/**
 * The highest nonce-count accepted per nonce, so that an Authorization sent again is known for a
 * replay (RFC 7616 §3.4.5: the server keeps nc per nonce and refuses one it has seen). Only
 * correct answers are recorded, so the table grows with successful authentications, not with
 * guesses; an entry goes once its nonce is past its lifetime, and past `maxEntries` the oldest go
 * first. Forgetting one early lets its nonce be answered again only on the connection it was
 * issued to (digest.ts binds nonces to connections), which already holds the proven identity.
 */
export class NonceCounts {
  readonly #highest = new Map<string, { count: number; expires: number }>();

  constructor(readonly maxEntries: number) {}

  /**
   * Records `count` for `nonce` (valid until `expires`, ms) if it is above every count accepted
   * for it so far; false when it is not: a replay.
   */
  advance(nonce: string, count: number, expires: number, now: number): boolean {
    const seen = this.#highest.get(nonce);
    if (seen && count <= seen.count) return false;
    this.#highest.delete(nonce);
    this.#highest.set(nonce, { count, expires });
    for (const [key, entry] of this.#highest) {
      if (entry.expires > now && this.#highest.size <= this.maxEntries) break;
      this.#highest.delete(key);
    }
    return true;
  }
}
