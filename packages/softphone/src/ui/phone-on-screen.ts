import { type Call, CallState, Phone, RegistrationState } from '../index.js';
import { follow } from './call-events.js';
import { renderLines, select } from './call-view.js';
import { showReceived } from './chat.js';
import { listDevices } from './devices.js';
import { renderVoicemail } from './dialer.js';
import { setText } from './dom.js';
import type { SessionCredentials } from './gateway-api.js';
import { showIncoming } from './incoming.js';
import { page } from './page-state.js';
import { renderRegistration } from './screen-view.js';

/** A phone on handed-out credentials; on `servers` in their order, by default only the one of the credentials. */
export function phoneFor(credentials: SessionCredentials, servers: string[] = [credentials.wsServer]): Phone {
  return new Phone({
    server: servers,
    aor: credentials.uri,
    iceServers: credentials.iceServers,
    authorizationUsername: credentials.authorizationUsername,
    authorizationPassword: credentials.authorizationPassword,
  });
}

/**
 * Puts a phone on screen and starts it. Its events reach the screen only while it is the phone on
 * screen: the person's own phone waits, unregistered, while a call link's identity has it.
 */
export async function runPhone(created: Phone, onCall: (call: Call) => void = () => {}): Promise<void> {
  page.phone = created;
  setText('identity', created.options.aor);
  const onScreen = () => page.phone === created;
  created.registrationChange.addListener((state) => {
    if (!onScreen()) return;
    renderRegistration(state);
    if (state === RegistrationState.Registered) page.contacts?.watchAll();
  });
  created.callAdded.addListener((call) => {
    follow(call);
    onCall(call);
    if (call.direction === 'outgoing') select(call);
    renderLines();
  });
  created.incomingCall.addListener((call) => {
    if (onScreen() && call.state === CallState.Ringing) showIncoming(call);
  });
  created.voicemailChange.addListener((summary) => {
    if (onScreen()) renderVoicemail(summary);
  });
  created.presenceChange.addListener(({ contact, presence, canPickUp }) => {
    if (onScreen()) page.contacts?.setPresence(contact, presence, canPickUp);
  });
  created.message.addListener((message) => {
    if (onScreen()) showReceived(message);
  });
  renderRegistration(created.registrationState);
  renderVoicemail(created.voicemail);
  // Listed at once, not after the first connection (which may take long, or never come); again
  // whenever the microphone opens, as the browser's permission gives the devices their names (and
  // Firefox its speakers), and once registered.
  created.microphoneOpened.addListener(() => {
    if (onScreen()) void listDevices();
  });
  void listDevices();
  await created.start().catch((error: Error) => console.warn('[ringway] registration failed', error.message));
  await listDevices();
}
