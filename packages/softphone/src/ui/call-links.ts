import type { Phone } from '../index.js';
import { renderLines } from './call-view.js';
import { $, setText, show } from './dom.js';
import { clearError, showFailure } from './error-banner.js';
import type { GatewaySettings, SessionReply } from './gateway-api.js';
import { answer } from './incoming.js';
import { page } from './page-state.js';
import { phoneFor, runPhone } from './phone-on-screen.js';
import { renderRegistration } from './screen-view.js';

/** Shows a session's state as it moves (Server-Sent Events from the gateway); `onOver` once it is over. */
function followSession(id: string, onOver: () => void = () => {}): void {
  show('session', true);
  const events = new EventSource(`/api/sessions/${id}/events`);
  events.addEventListener('state', (event) => {
    const { state, reason } = JSON.parse((event as MessageEvent<string>).data) as {
      state: string;
      reason: string;
    };
    setText('session-state', state);
    setText('session-reason', reason);
    if (['ended', 'expired', 'failed'].includes(state)) {
      events.close();
      onOver();
    }
  });
}

/**
 * Creator: a session, its link to share, and a phone on the session's identity that answers the
 * peer by itself.
 *
 * A person signed in gets no link to their own address: the joiner's guest credentials may call
 * only the link's other identity, `rw-<id>-a` (the gateway's guest-scope.ts refuses an INVITE to
 * anyone else), and the session's states (connected, ended) follow those two identities. So for
 * the link's call this page's phone becomes that identity, as for someone without an account; the
 * person's own phone is unregistered meanwhile (a call to them then fails at once rather than
 * ringing where nobody sees it, and one phone at a time owns the microphone and the screen), and
 * registers again once the session is over.
 */
async function startSessionAsCreator(): Promise<void> {
  clearError();
  const response = await fetch('/api/sessions', {
    method: 'POST',
    headers: page.linkAuthorization ? { authorization: page.linkAuthorization } : {},
  });
  if (!response.ok) {
    showFailure('call-link', response.status === 401 ? 'sign in first' : `${response.status}`);
    return;
  }
  const session = (await response.json()) as SessionReply;
  show('session-share', true);
  $<HTMLInputElement>('join-url').value = session.joinUrl ?? '';
  const person = page.phone !== undefined && page.phone === page.own ? page.own : undefined;
  const link = phoneFor(session.credentials);
  followSession(session.id, () => {
    if (person) void backToOwnPhone(person, link);
  });
  // The link's phone is on screen from here, so the person's stopping shows nothing.
  const started = runPhone(link, (call) => {
    if (call.direction === 'incoming') answer(call);
  });
  await person?.stop();
  await started;
}

/** The call link is over: its identity goes, and the person's own phone registers again. */
async function backToOwnPhone(person: Phone, link: Phone): Promise<void> {
  if (page.phone !== link) return;
  show('session-share', false);
  // Signed out meanwhile (the sign-in ended): the sign-in form, not a phone without credentials.
  if (page.own !== person) {
    await link.stop();
    return;
  }
  page.phone = person;
  setText('identity', person.options.aor);
  const registered = person
    .start()
    .catch((error: Error) => console.warn('[ringway] registration failed', error.message));
  renderRegistration(person.registrationState);
  renderLines();
  await Promise.all([link.stop(), registered]);
}

/** Joiner: the link's code joins the session; the joiner calls the creator. */
export async function joinSession(code: string): Promise<void> {
  const response = await fetch(`/api/sessions/${encodeURIComponent(code)}/join`, { method: 'POST' });
  if (!response.ok) {
    show('session', true);
    const { error } = (await response.json()) as { error: string };
    // The session's line says where this page stands with it; the banner says why.
    setText('session-state', `cannot join (${response.status})`);
    showFailure('join', error);
    return;
  }
  const session = (await response.json()) as SessionReply;
  followSession(session.id);
  await runPhone(phoneFor(session.credentials));
  if (session.peer) page.phone?.dial(session.peer);
}

/** The buttons that start a call link (signed in or not, as the gateway allows) and copy it. */
export function wireCallLinks(settings: GatewaySettings): void {
  // Not signed in, the gateway takes a link only with CALL_LINKS=anyone; signed in, the idle
  // screen offers one (renderScreen).
  show('guest-link', settings.callLinks === 'anyone');
  $('start-link-button').addEventListener('click', () => void startSessionAsCreator());
  $('own-link-button').addEventListener('click', () => void startSessionAsCreator());
  $('copy-link-button').addEventListener(
    'click',
    () => void navigator.clipboard?.writeText($<HTMLInputElement>('join-url').value),
  );
}
