import type { ContactPresence } from '../presence.js';
import { userPart } from './party.js';

/** Someone to call: added by the person (kept in this browser) or from the operator's users. */
export interface Contact {
  name: string;
  /** What is dialled and watched: a user of this domain, a number or a SIP URI. */
  address: string;
  source: 'mine' | 'directory';
}

const CONTACTS_KEY = 'ringway.contacts';
/** Contacts a person may keep here: a phone's list, and a bound on what localStorage holds. */
const MAX_CONTACTS = 200;

/** Words for each lamp, read by screen readers and shown beside the coloured dot. */
export const PRESENCE_WORDS: Record<ContactPresence, string> = {
  unknown: 'unknown',
  offline: 'offline',
  online: 'online',
  ringing: 'ringing',
  'on-call': 'on a call',
};

export function savedContacts(storage: Storage = localStorage): Contact[] {
  try {
    const saved = JSON.parse(storage.getItem(CONTACTS_KEY) ?? '[]') as Array<Partial<Contact>>;
    return saved
      .filter((c): c is Contact => typeof c.name === 'string' && typeof c.address === 'string')
      .map(({ name, address }) => ({ name, address, source: 'mine' as const }));
  } catch {
    return [];
  }
}

/**
 * The contact list: the person's own contacts and the operator's directory, one lamp each,
 * a click to call. It tells the phone whom to watch; the phone's presence events light the lamps.
 */
export class ContactList {
  #mine: Contact[] = savedContacts();
  #directory: Contact[] = [];
  readonly #presence = new Map<string, { presence: ContactPresence; canPickUp: boolean }>();

  constructor(
    private readonly list: HTMLElement,
    private readonly actions: {
      call(address: string): void;
      pickUp(address: string): void;
      watch(address: string): void;
      unwatch(address: string): void;
      /** The full URI of an address (a user of the phone's domain, a number, a URI), shown on demand. */
      uri(address: string): string;
    },
  ) {}

  get contacts(): Contact[] {
    const mine = new Set(this.#mine.map((c) => c.address));
    return [...this.#mine, ...this.#directory.filter((c) => !mine.has(c.address))];
  }

  /** The phone registered: watch everyone listed. */
  watchAll(): void {
    for (const contact of this.contacts) this.actions.watch(contact.address);
    this.render();
  }

  setDirectory(names: string[]): void {
    this.#directory = names.map((name) => ({ name, address: name, source: 'directory' }));
    this.watchAll();
  }

  /** Adds (or renames) one of the person's own contacts; false when the list is full. */
  add(name: string, address: string): boolean {
    const existing = this.#mine.find((c) => c.address === address);
    if (existing) existing.name = name;
    else if (this.#mine.length >= MAX_CONTACTS) return false;
    else this.#mine.push({ name, address, source: 'mine' });
    this.#save();
    this.actions.watch(address);
    this.render();
    return true;
  }

  remove(address: string): void {
    this.#mine = this.#mine.filter((c) => c.address !== address);
    this.#save();
    if (!this.#directory.some((c) => c.address === address)) this.actions.unwatch(address);
    this.render();
  }

  setPresence(address: string, presence: ContactPresence, canPickUp = false): void {
    this.#presence.set(address, { presence, canPickUp });
    this.render();
  }

  render(): void {
    const contacts = this.contacts;
    if (contacts.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'contact-empty';
      empty.textContent = 'No contacts yet: add one below.';
      this.list.replaceChildren(empty);
      return;
    }
    this.list.replaceChildren(...contacts.map((contact) => this.#item(contact)));
  }

  #item(contact: Contact): HTMLLIElement {
    const { presence, canPickUp } = this.#presence.get(contact.address) ?? {
      presence: 'unknown',
      canPickUp: false,
    };
    const item = document.createElement('li');
    item.dataset.testid = 'contact';
    item.dataset.address = contact.address;
    item.dataset.presence = presence;
    const call = document.createElement('button');
    call.type = 'button';
    call.className = 'contact-call';
    call.dataset.testid = 'contact-call';
    // Read as "Call Bob on a call": the visible words are the button's name, after a verb for
    // screen readers alone.
    const verb = document.createElement('span');
    verb.className = 'visually-hidden';
    verb.textContent = 'Call ';
    const lamp = document.createElement('span');
    lamp.className = 'lamp';
    lamp.setAttribute('aria-hidden', 'true');
    const name = document.createElement('span');
    name.className = 'contact-name';
    name.textContent = contact.name;
    // The user part too, unless it is the name (the operator's directory lists users by theirs).
    const user = document.createElement('span');
    user.className = 'party-user';
    user.dataset.testid = 'contact-user';
    const extension = userPart(contact.address);
    user.textContent = extension === contact.name ? '' : extension;
    call.title = this.actions.uri(contact.address);
    const words = document.createElement('span');
    words.className = 'presence-words';
    words.dataset.testid = 'contact-presence';
    words.textContent = PRESENCE_WORDS[presence];
    call.append(verb, lamp, name, ' ', user, ' ', words);
    call.addEventListener('click', () => this.actions.call(contact.address));
    item.append(call);
    if (canPickUp) {
      // Directed pickup: the call ringing for them, answered here.
      const pickUp = document.createElement('button');
      pickUp.type = 'button';
      pickUp.className = 'contact-pickup';
      pickUp.dataset.testid = 'contact-pickup';
      pickUp.textContent = 'Pick up';
      pickUp.setAttribute('aria-label', `Pick up ${contact.name}'s call`);
      pickUp.addEventListener('click', () => this.actions.pickUp(contact.address));
      item.append(pickUp);
    }
    if (contact.source === 'mine') {
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'contact-remove';
      remove.textContent = '×';
      remove.setAttribute('aria-label', `Remove ${contact.name} from contacts`);
      remove.addEventListener('click', () => this.remove(contact.address));
      item.append(remove);
    }
    return item;
  }

  #save(): void {
    localStorage.setItem(
      CONTACTS_KEY,
      JSON.stringify(this.#mine.map(({ name, address }) => ({ name, address }))),
    );
  }
}
