import { type Call, CallState, isFinal, type Phone } from '../index.js';
import type { ContactList } from './contact-list.js';
import type { GatewaySettings } from './gateway-api.js';

/**
 * What the page's modules share: the phone and call on screen, and what the sign-in decided.
 * Everything else a module keeps is its own.
 */
export interface PageState {
  /** The phone on screen: the person's own, or a call link's identity while the link runs. */
  phone: Phone | undefined;
  /** The person's own phone (signed in, or registered as a user): never a call link's identity. */
  own: Phone | undefined;
  /** The call on screen. */
  current: Call | undefined;
  /** Who may create a call link here (GET /api/config); nobody until the gateway says. */
  callLinks: GatewaySettings['callLinks'];
  /**
   * What proves to the gateway that a person (not a guest) is signed in, for creating a call link
   * (CALL_LINKS=signed-in): the sign-in's renewal token, or the SIP credentials typed in.
   */
  linkAuthorization: string | undefined;
  /** Made when the page is wired (contacts-panel.ts). */
  contacts: ContactList | undefined;
}

export const page: PageState = {
  phone: undefined,
  own: undefined,
  current: undefined,
  callLinks: 'off',
  linkAuthorization: undefined,
  contacts: undefined,
};

/** The call on screen while it is being set up or live: what the call screen shows. */
export function liveCall(): Call | undefined {
  const call = page.current;
  return call && !isFinal(call.state) && call.state !== CallState.Idle ? call : undefined;
}

/** Whether the gateway will take this page's POST /api/sessions (CALL_LINKS, sessions-api.ts). */
export function mayCreateLink(): boolean {
  return (
    page.callLinks === 'anyone' || (page.callLinks === 'signed-in' && page.linkAuthorization !== undefined)
  );
}
