/**
 * Values grouped under a key (subscriptions by watched user, calls by party…), with the empty
 * groups dropped so that a key lives only as long as something is filed under it.
 */
export class SetIndex<K, V> {
  readonly #groups = new Map<K, Set<V>>();

  add(key: K, value: V): void {
    let group = this.#groups.get(key);
    if (!group) {
      group = new Set();
      this.#groups.set(key, group);
    }
    group.add(value);
  }

  delete(key: K, value: V): void {
    const group = this.#groups.get(key);
    group?.delete(value);
    if (group?.size === 0) this.#groups.delete(key);
  }

  /** A copy of the group, safe to iterate while its members are removed. */
  get(key: K): V[] {
    return [...(this.#groups.get(key) ?? [])];
  }
}
