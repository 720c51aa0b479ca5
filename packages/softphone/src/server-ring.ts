/**
 * The WebSocket servers a phone may use, in order, and the one it uses now. A phone starts on
 * the first; when its server is gone, each reconnection attempt goes to the next one, round the
 * list, so that a dead server is left at once and a server that failed is tried again only after
 * every other one.
 */
export class ServerRing {
  readonly servers: readonly string[];
  #index = 0;

  /** `servers`: one URL, or several (duplicates are dropped: each is tried once a round). */
  constructor(servers: string | readonly string[]) {
    this.servers = [...new Set(typeof servers === 'string' ? [servers] : servers)];
    if (this.servers.length === 0) throw new TypeError('a phone needs at least one WebSocket server');
  }

  /** The server the phone is connected to, or connecting to. */
  get current(): string {
    return this.servers[this.#index] as string;
  }

  /** Moves to the server after the current one (the first after the last) and returns it. */
  advance(): string {
    this.#index = (this.#index + 1) % this.servers.length;
    return this.current;
  }
}
