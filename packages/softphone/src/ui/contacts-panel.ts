import { ContactList } from './contact-list.js';
import { dialFromUi, pickUpFromUi } from './dialer.js';
import { $ } from './dom.js';
import { page } from './page-state.js';
import { partyOf } from './party.js';

/** The contact list (contact-list.ts) on the page, and the form that adds to it. */
export function wireContacts(): void {
  const contacts = new ContactList($('contact-list'), {
    call: (address) => dialFromUi(address),
    pickUp: (address) => pickUpFromUi(address),
    watch: (address) => page.phone?.watch(address),
    unwatch: (address) => page.phone?.unwatch(address),
    uri: (address) => partyOf(address).uri,
  });
  page.contacts = contacts;
  contacts.render();
  $('contact-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $<HTMLInputElement>('contact-name');
    const address = $<HTMLInputElement>('contact-address');
    if (!contacts.add(name.value.trim(), address.value.trim())) {
      address.setCustomValidity('The contact list is full: remove one first.');
      address.reportValidity();
      return;
    }
    name.value = '';
    address.value = '';
  });
}
