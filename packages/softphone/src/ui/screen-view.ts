import { type Call, CallState, isFinal, RegistrationState } from '../index.js';
import { $, setText, show } from './dom.js';
import { mayCreateLink, page } from './page-state.js';
import { screenFor } from './screen.js';

/** Registered, or reconnecting with the calls kept: the phone's screens rather than sign-in. */
function isReady(state: RegistrationState | undefined): boolean {
  return state === RegistrationState.Registered || state === RegistrationState.Reconnecting;
}

export function renderRegistration(state: RegistrationState): void {
  const badge = $('registration-state');
  badge.textContent = state;
  badge.dataset.state = state;
  // Which gateway: the phone moves to another when its own is gone.
  setText('server', page.phone?.server ?? '');
  setText(
    'registration-reason',
    state === RegistrationState.Registered ? '' : (page.phone?.registrationFailure?.text ?? ''),
  );
  const ready = isReady(state);
  for (const id of ['dialer', 'contacts', 'devices', 'chat']) show(id, ready || !$('dialer').hidden);
  show('sign-in', !ready && state !== RegistrationState.Registering);
  renderScreen();
}

/** Picks the screen for the situation (screen.ts); the style sheet shows that screen's sections. */
export function renderScreen(): void {
  const { phone } = page;
  const calls = phone?.calls.filter((c) => !isFinal(c.state)) ?? [];
  const ringingForUs = (c: Call) => c.direction === 'incoming' && c.state === CallState.Ringing;
  const screen = screenFor({
    ready: isReady(phone?.registrationState),
    ringing: calls.some(ringingForUs),
    liveCalls: calls.filter((c) => !ringingForUs(c) && c.state !== CallState.Idle).length,
  });
  document.body.dataset.screen = screen;
  // Only idle: starting a link takes this page's phone away from the person (startSessionAsCreator).
  show('own-link', screen === 'idle' && phone !== undefined && phone === page.own && mayCreateLink());
  // Adding a call is over once there is no call to add to.
  if (screen !== 'in-call') delete document.body.dataset.adding;
  show('incoming-waiting', screen === 'in-call');
}
