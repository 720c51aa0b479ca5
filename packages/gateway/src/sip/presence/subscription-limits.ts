/** Who holds a subscription, as the limits count it. */
export interface Watcher {
  flowId: string;
  /**
   * The From user of the SUBSCRIBE: the user it proved to be when credentials are required (the
   * SIP server refuses a From that is not the proven user), the name it gave in anonymous mode.
   */
  user: string;
  /** The client address of its connection. */
  address: string;
}

export interface SubscriptionLimit {
  /** What is counted, for the Warning and the log. */
  of: (watcher: Watcher) => string;
  max: number;
  key: (watcher: Watcher) => string;
}

/**
 * How many live subscriptions the notifier holds, by what they are counted on. Without the
 * per-user and per-address rows one user took all 50,000 (251 connections × 200) and the next got
 * 503; one call of the watched user then cost 100,000 NOTIFYs in 5 s.
 * - connection: a softphone watches a few dozen contacts, two packages each.
 * - user: two devices at the connection limit (a desk phone and a laptop, or a few tabs), so that
 *   the global limit takes 125 proven users to fill.
 * - address: 125 people behind one NAT at 40 each (20 contacts, both packages); the global limit
 *   takes 10 addresses. Anonymous mode proves no user, so this is its real bound per client.
 * - all: what the gateway keeps at most.
 */
export const SUBSCRIPTION_LIMITS = {
  connection: { of: () => 'this connection', max: 200, key: (w) => w.flowId },
  user: { of: (w) => w.user, max: 400, key: (w) => w.user },
  address: { of: (w) => w.address, max: 5000, key: (w) => w.address },
  all: { of: () => 'all watchers', max: 50_000, key: () => '' },
} as const satisfies Record<string, SubscriptionLimit>;

/** Live subscriptions counted under every limit, with each count dropped when it comes to 0. */
export class SubscriptionCounts {
  readonly #counts = new Map<SubscriptionLimit, Map<string, number>>(
    Object.values(SUBSCRIPTION_LIMITS).map((limit) => [limit, new Map()]),
  );

  /** The first limit a new subscription of `watcher` would go past, or undefined when it fits. */
  exceeded(watcher: Watcher): SubscriptionLimit | undefined {
    return Object.values(SUBSCRIPTION_LIMITS).find(
      (limit) => (this.#counts.get(limit)?.get(limit.key(watcher)) ?? 0) >= limit.max,
    );
  }

  add(watcher: Watcher): void {
    for (const [limit, counts] of this.#counts) {
      const key = limit.key(watcher);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }

  remove(watcher: Watcher): void {
    for (const [limit, counts] of this.#counts) {
      const key = limit.key(watcher);
      const left = (counts.get(key) ?? 1) - 1;
      if (left === 0) counts.delete(key);
      else counts.set(key, left);
    }
  }
}
