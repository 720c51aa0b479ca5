import type { Call } from '../index.js';
import { chatPeer } from './chat-threads.js';
import { page } from './page-state.js';

/**
 * Someone the page shows (a caller, a line, a history entry, a chat thread, a contact): a name
 * when one is known, the user part always, the full URI on demand (a title, and a details element
 * where there is room). People know each other by name and extension, not by `sip:…;transport=ws`.
 */
export interface Party {
  /** The URI without parameters (chatPeer), e.g. `sip:bob@example.com`. */
  uri: string;
  /** The URI's user part: `bob`, `+4930123`; the host where there is none. */
  user: string;
  /** A display name (RFC 3261 §20.20's display-name, or the contact's name); undefined if none or the same as `user`. */
  name: string | undefined;
}

/** Display names seen on calls (From of an incoming call, To of an answered one), by URI, for chat threads with the same people. */
const seenNames = new Map<string, string>();

const ownAor = () => page.phone?.options.aor ?? '';

export function userPart(uri: string): string {
  const bare = uri.replace(/^(sips?|tel):/i, '').split(/[;?]/)[0] ?? '';
  const at = bare.lastIndexOf('@');
  return at > 0 ? bare.slice(0, at) : bare;
}

/** The party at `address` (a URI, or a user of the phone's own domain), named by `displayName`, a call's or a contact's name. */
export function partyOf(address: string, displayName?: string): Party {
  const uri = chatPeer(address, ownAor());
  const user = userPart(uri);
  const contact = page.contacts?.contacts.find((c) => chatPeer(c.address, ownAor()) === uri);
  const name = displayName?.trim() || seenNames.get(uri) || contact?.name;
  return { uri, user, name: name && name !== user ? name : undefined };
}

/** The other party of a call, with the display name SIP gave (the From of an incoming INVITE, the To of ours). */
export function callParty(call: Call): Party {
  // SIP.js's Session keeps the far end's name-addr: the only place the display name is.
  const displayName = call.session.remoteIdentity.displayName;
  const party = partyOf(call.remote, displayName);
  if (displayName && party.name) seenNames.set(party.uri, displayName);
  return party;
}

/** The party in a line of text: `Ada Lovelace (ada)`, or `ada`. */
export function partyText(party: Party): string {
  return party.name ? `${party.name} (${party.user})` : party.user;
}

/** The party as an element: the name, the user part, and the URI as its title. */
export function partyElement(party: Party): HTMLSpanElement {
  const element = document.createElement('span');
  element.className = 'party';
  element.title = party.uri;
  element.dataset.uri = party.uri;
  if (party.name) {
    const name = document.createElement('span');
    name.className = 'party-name';
    name.dataset.testid = 'party-name';
    name.textContent = party.name;
    element.append(name, ' ');
  }
  const user = document.createElement('span');
  user.className = 'party-user';
  user.dataset.testid = 'party-user';
  user.textContent = party.user;
  element.append(user);
  return element;
}

/** The full URI on demand: a details element, closed, whose summary says what it holds. */
export function uriDetails(party: Party, testId: string): HTMLDetailsElement {
  const details = document.createElement('details');
  details.className = 'party-uri';
  details.dataset.testid = testId;
  const summary = document.createElement('summary');
  summary.textContent = 'Address';
  const uri = document.createElement('code');
  uri.textContent = party.uri;
  details.append(summary, uri);
  return details;
}

/** Shows a party in the element `id` and its URI in the details element `${id}-uri` (index.html has both). */
export function showParty(id: string, party: Party, before = ''): void {
  const element = document.getElementById(id) as HTMLElement;
  element.replaceChildren(...(before ? [before] : []), partyElement(party));
  const details = document.getElementById(`${id}-uri`) as HTMLDetailsElement;
  details.open = false;
  details.querySelector('code')?.replaceChildren(party.uri);
}
