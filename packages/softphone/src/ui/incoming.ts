import { type Call, CallState, isFinal } from '../index.js';
import { renderCall, select } from './call-view.js';
import { $, setText, show } from './dom.js';
import { attempt } from './error-banner.js';
import { IncomingNotification } from './incoming-notification.js';
import { page } from './page-state.js';
import { callParty, partyText, showParty } from './party.js';
import { ringTone } from './ring-tone.js';
import { renderScreen } from './screen-view.js';

/** The incoming call screen: the caller, the ring, Answer and Decline, the system notification. */
const ring = ringTone(() => $<HTMLSelectElement>('output-device').value);
const incomingNotification = new IncomingNotification();

/** The device the ring plays on now (ring-tone.ts), for the page's tests of the speaker choice. */
export function ringSinkId(): string | undefined {
  return ring.sinkId;
}

function focusAnswer(): void {
  $<HTMLButtonElement>('answer-button').focus();
}

/**
 * Runs `work` once the next frame is drawn (at once in a hidden page, which draws none):
 * requestAnimationFrame runs just before the frame, the task it queues just after.
 */
function afterNextFrame(work: () => void): void {
  if (document.visibilityState === 'hidden') return work();
  requestAnimationFrame(() => setTimeout(work, 0));
}

/**
 * A call rings for the phone on screen: it shows and takes Answer's focus, then rings. The ring
 * and the system notification wait for the frame that shows the call: starting the ring's audio
 * (an <audio> element, its stream, its first burst) took 6–40 ms of the callee's main thread
 * before its page could draw (bench:first-call, 2026-12-05).
 */
export function showIncoming(call: Call): void {
  const caller = callParty(call);
  showParty('incoming-from', caller);
  show('incoming', true);
  if (!page.current || isFinal(page.current.state)) select(call);
  renderScreen();
  focusAnswer();
  afterNextFrame(() => {
    if (call.state !== CallState.Ringing) return;
    ring.start();
    incomingNotification.show(partyText(caller), focusAnswer);
  });
}

/** A call changed state: the ring and the incoming call's screen and notification go once it stops ringing. */
export function incomingCallChanged(call: Call, state: CallState): void {
  if (state !== CallState.Ringing || call.direction === 'outgoing') ring.stop();
  if (call.direction !== 'incoming') return;
  if (state !== CallState.Ringing) incomingNotification.close();
  if (isFinal(state)) show('incoming', false);
}

/**
 * Answers a call. A failure (the offer cannot be used, no microphone) is the call's end reason,
 * which the page shows; it must not also escape as an unhandled rejection.
 */
export function answer(call: Call): void {
  call
    .answer()
    .catch((error: Error) => console.warn(`[ringway] ${call.id} could not answer: ${error.message}`));
}

function ringingCall(): Call | undefined {
  return page.phone?.calls.find((c) => c.direction === 'incoming' && c.state === CallState.Ringing);
}

export function wireIncoming(): void {
  $('answer-button').addEventListener('click', async () => {
    const call = ringingCall();
    if (!call) return;
    ring.stop();
    show('incoming', false);
    // A second line: the call in progress goes on hold before the new one is answered.
    const other = page.phone?.calls.find((c) => c !== call && c.state === CallState.Active);
    await attempt('answer', async () => {
      if (other) await other.hold();
      select(call);
      answer(call);
    });
    renderCall();
  });
  $('decline-button').addEventListener('click', () => {
    const call = ringingCall();
    ring.stop();
    show('incoming', false);
    void attempt('decline', () => call?.decline(603));
  });
  $('notify-button').addEventListener('click', async () => {
    const permission = await incomingNotification.ask();
    setText(
      'notify-state',
      permission === 'granted'
        ? 'A notification will show incoming calls while this tab is hidden.'
        : permission === 'unsupported'
          ? 'This browser has no notifications.'
          : 'Notifications are blocked for this page (the browser’s site settings can allow them).',
    );
  });
}
