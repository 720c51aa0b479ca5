/** A chat message on the page: received, or sent with where its delivery stands. */
export interface ChatLine {
  readonly id: number;
  /** Whose thread it is in: chatPeer() of the other side. */
  readonly peer: string;
  readonly direction: 'in' | 'out';
  /** The other side as the line names it: the sender's URI, or the address the person typed. */
  readonly who: string;
  readonly text: string;
  /** A sent message's delivery (deliveryText's words); undefined for one received. */
  delivery?: string;
}

/**
 * The thread an address belongs to, as a URI without parameters: `bob` (a user of the phone's own
 * domain, as target-uri.ts reads it), `sip:bob@example.com` and a From of
 * `sip:bob@example.com;transport=ws` are one thread. It is also where a reply goes.
 */
export function chatPeer(address: string, ownAor: string): string {
  const [, scheme = 'sip', rest] = /^(?:(sips?):)?(.*)$/i.exec(address.trim()) ?? [];
  const bare = (rest ?? '').split(/[;?]/)[0] ?? '';
  const at = bare.lastIndexOf('@');
  // No own address yet (a contact listed before the phone starts): no domain to give it.
  const host = at >= 0 ? bare.slice(at + 1) : ownAor ? (chatPeer(ownAor, '').split('@')[1] ?? '') : '';
  return `${scheme.toLowerCase()}:${at >= 0 ? bare.slice(0, at) : bare}@${host.toLowerCase()}`;
}

/**
 * The page's chat messages in the order they came, a thread per peer, and how many messages of
 * each thread came while the person looked at another (unread).
 */
export class ChatThreads {
  readonly #lines: ChatLine[] = [];
  readonly #unread = new Map<string, number>();

  /** Adds a message; one received while its thread is not on screen (`seen` false) is unread. */
  add(line: Omit<ChatLine, 'id'>, seen: boolean): ChatLine {
    const added = { ...line, id: this.#lines.length + 1 };
    this.#lines.push(added);
    if (line.direction === 'in' && !seen) this.#unread.set(line.peer, this.unread(line.peer) + 1);
    return added;
  }

  thread(peer: string): ChatLine[] {
    return this.#lines.filter((line) => line.peer === peer);
  }

  /** Everyone with a message, in the order of their first. */
  peers(): string[] {
    return [...new Set(this.#lines.map((line) => line.peer))];
  }

  unread(peer: string): number {
    return this.#unread.get(peer) ?? 0;
  }

  read(peer: string): void {
    this.#unread.delete(peer);
  }

  readAll(): void {
    this.#unread.clear();
  }
}
