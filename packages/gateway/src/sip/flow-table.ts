import { parseNameAddr } from './address.js';
import type { Flow } from './flow.js';
import { detached, headers, type SipMessage } from './message.js';

/** Contacts one flow can own at most: a client sends one or two; the rest only fills memory. */
const MAX_CONTACTS_PER_FLOW = 16;

/** The key a contact URI is found by: user and host, lower-cased. */
function contactKey(user: string | undefined, host: string): string {
  return `${user ?? ''}@${host.toLowerCase()}`;
}

/** A contact one of our clients sent, the flow it lives on and the user who proved it. */
export interface ContactEntry {
  flow: Flow;
  /** The authenticated SIP user that sent it; undefined in anonymous mode. */
  owner: string | undefined;
}

/**
 * The open flows, and which flow each client contact lives on. A WebSocket client cannot be
 * reached at the address in its Contact (RFC 7118 §5 gives it a made-up `.invalid` host), so the
 * gateway remembers, for every Contact an authenticated flow sends, that the flow reaches it.
 * In-dialog requests carry the peer's Contact as Request-URI and are routed through this index;
 * it plays the part of Kamailio's `add_contact_alias()`/`handle_ruri_alias()` without rewriting
 * anyone's Contact.
 *
 * Only what was authenticated is learned (the SIP server decides), and a contact that a user
 * owns moves to a newer flow only when that flow is the same user's (RFC 5626 flow recovery):
 * nobody can take over somebody else's contact by sending it.
 */
export class FlowTable {
  readonly #flows = new Map<string, Flow>();
  readonly #contacts = new Map<string, { flowId: string; owner: string | undefined }>();
  readonly #flowContacts = new Map<string, Set<string>>();
  readonly #closing: Array<(flowId: string) => void> = [];

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

  /**
   * Calls `listener` when a flow is removed, before its contacts are forgotten: `contact()` still
   * says which of them are the closing flow's and which have moved to a newer one.
   */
  onRemove(listener: (flowId: string) => void): void {
    this.#closing.push(listener);
  }

  remove(id: string): void {
    if (this.#flows.has(id)) for (const listener of this.#closing) listener(id);
    this.#flows.delete(id);
    for (const key of this.#flowContacts.get(id) ?? []) {
      if (this.#contacts.get(key)?.flowId === id) this.#contacts.delete(key);
    }
    this.#flowContacts.delete(id);
  }

  /**
   * Records the Contacts of an authenticated message from `flow`: `owner` is the user it proved
   * to be (undefined in anonymous mode, where nobody proves anything).
   */
  learnContacts(flow: Flow, message: SipMessage, owner: string | undefined): void {
    for (const value of headers(message, 'Contact')) {
      if (value === '*') continue;
      const contact = parseNameAddr(value);
      if (contact) this.#learn(flow, contactKey(contact.uri.user, contact.uri.host), owner);
    }
  }

  #learn(flow: Flow, key: string, owner: string | undefined): void {
    const current = this.#contacts.get(key);
    if (current?.flowId === flow.id) return;
    // Somebody else's contact: not theirs to take (the entry goes when its flow closes).
    if (current && current.owner !== owner) return;
    let keys = this.#flowContacts.get(flow.id);
    if (!keys) {
      keys = new Set();
      this.#flowContacts.set(flow.id, keys);
    }
    if (keys.size >= MAX_CONTACTS_PER_FLOW) {
      const oldest = keys.values().next().value as string;
      keys.delete(oldest);
      if (this.#contacts.get(oldest)?.flowId === flow.id) this.#contacts.delete(oldest);
    }
    // Detached copies: the key and owner outlive the message they came in.
    const kept = detached(key);
    keys.add(kept);
    this.#contacts.set(kept, { flowId: flow.id, owner: owner === undefined ? undefined : detached(owner) });
  }

  /** The flow that reaches a contact URI, and who owns it, if one of our clients sent it. */
  contact(user: string | undefined, host: string): ContactEntry | undefined {
    const entry = this.#contacts.get(contactKey(user, host));
    const flow = entry && this.#flows.get(entry.flowId);
    return flow && { flow, owner: entry.owner };
  }
}
