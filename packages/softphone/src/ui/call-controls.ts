import { CallState, isFinal } from '../index.js';
import { renderCall } from './call-view.js';
import { $ } from './dom.js';
import { attempt } from './error-banner.js';
import { keypad } from './keypad.js';
import { page } from './page-state.js';

/** The call screen's controls, acting on the call on screen: hang up, hold, mute, DTMF, transfers. */
export function wireCallControls(): void {
  keypad(
    'dtmf-keypad',
    (key) => {
      const method = $<HTMLInputElement>('dtmf-info').checked ? 'info' : 'rfc4733';
      void attempt('dtmf', () => page.current?.sendDtmf(key, method));
    },
    'dtmf',
  );
  $('hangup-button').addEventListener('click', () => void attempt('hangup', () => page.current?.hangup()));
  $('hold-button').addEventListener('click', () => {
    const call = page.current;
    if (!call) return;
    const held = call.state === CallState.Held;
    // The button shows the call as it is after the answer, refused or not: a refused hold can be tried again.
    void attempt(held ? 'resume' : 'hold', () => (held ? call.resume() : call.hold())).then(renderCall);
  });
  $('mute-button').addEventListener('click', () => {
    page.current?.mute(!page.current.muted);
    renderCall();
  });
  $('transfer-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const target = $<HTMLInputElement>('transfer-input').value.trim();
    const call = page.current;
    if (target && call) void attempt('transfer', () => call.transfer(target));
  });
  $('attended-button').addEventListener('click', () => {
    const consultation = page.current;
    const other = page.phone?.calls.find((c) => c !== consultation && !isFinal(c.state));
    if (consultation && other) void attempt('transfer', () => other.transferTo(consultation));
  });
}
