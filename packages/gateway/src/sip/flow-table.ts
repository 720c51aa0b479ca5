import { parseNameAddr } from './address.js';
import type { Flow } from './flow.js';
import { headers, type SipMessage } from './message.js';

/** The key a contact URI is found by: user and host, lower-cased. */
function contactKey(user: string | undefined, host: string): string {
  return `${user ?? ''}@${host.toLowerCase()}`;
}

/**
 * The open flows, and which flow each client contact lives on. A WebSocket client cannot be
 * reached at the address in its Contact (RFC 7118 §5 gives it a made-up `.invalid` host), so the
 * gateway remembers, for every Contact a flow sends, that the flow reaches it. In-dialog requests
 * carry the peer's Contact as Request-URI and are routed through this index; it plays the part
 * of Kamailio's `add_contact_alias()`/`handle_ruri_alias()` without rewriting anyone's Contact.
 */
export class FlowTable {
  readonly #flows = new Map<string, Flow>();
  readonly #contactFlow = new Map<string, string>();
  readonly #flowContacts = new Map<string, Set<string>>();

  get size(): number {
    return this.#flows.size;
  }

  add(flow: Flow): void {
    this.#flows.set(flow.id, flow);
  }

  get(id: string): Flow | undefined {
    return this.#flows.get(id);
  }

  all(): Flow[] {
    return [...this.#flows.values()];
  }

  remove(id: string): void {
    this.#flows.delete(id);
    for (const key of this.#flowContacts.get(id) ?? []) {
      if (this.#contactFlow.get(key) === id) this.#contactFlow.delete(key);
    }
    this.#flowContacts.delete(id);
  }

  /** Records the Contacts a message from `flow` carries. */
  learnContacts(flow: Flow, message: SipMessage): void {
    for (const value of headers(message, 'Contact')) {
      if (value === '*') continue;
      const contact = parseNameAddr(value);
      if (!contact) continue;
      const key = contactKey(contact.uri.user, contact.uri.host);
      if (this.#contactFlow.get(key) === flow.id) continue;
      this.#contactFlow.set(key, flow.id);
      let keys = this.#flowContacts.get(flow.id);
      if (!keys) {
        keys = new Set();
        this.#flowContacts.set(flow.id, keys);
      }
      keys.add(key);
    }
  }

  /** The flow that reaches a contact URI, if one of our clients sent it. */
  flowForContact(user: string | undefined, host: string): Flow | undefined {
    const id = this.#contactFlow.get(contactKey(user, host));
    return id === undefined ? undefined : this.#flows.get(id);
  }
}
