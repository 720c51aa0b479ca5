import { CallState, type MessageSummary } from '../index.js';
import { renderCall } from './call-view.js';
import { dialLinkTarget, linkHandlerUrl } from './dial-link.js';
import { $, setText, show } from './dom.js';
import { attempt, clearError, showFailure } from './error-banner.js';
import { keypad } from './keypad.js';
import { page } from './page-state.js';
import { voicemailWords } from './voicemail.js';

/** Puts the call on screen on hold, if it is active: a new call becomes the second line. */
function holdCurrent(): Promise<void> {
  return page.current?.state === CallState.Active ? page.current.hold() : Promise.resolve();
}

/** Dials from the dial field or a contact; a call in progress goes on hold first (a second line). */
export function dialFromUi(target: string): void {
  if (!target || !page.phone) return;
  delete document.body.dataset.adding;
  void attempt('dial', async () => {
    await holdCurrent();
    page.phone?.dial(target, { video: $<HTMLInputElement>('video-checkbox').checked });
  }).then(renderCall);
}

/** Picks up a call ringing for a contact; a call in progress goes on hold first, as for a dial. */
export function pickUpFromUi(contact: string): void {
  if (!page.phone) return;
  // The call may have stopped ringing between the lamp and the click: the banner says so.
  void attempt('answer', async () => {
    await holdCurrent();
    page.phone?.pickUp(contact);
  }).then(renderCall);
}

/**
 * The voicemail lamp and count, shown while the phone's server tells its mailbox. The button
 * calls the address that plays the messages (Message-Account); without one it is disabled.
 */
export function renderVoicemail(summary: MessageSummary | undefined): void {
  show('voicemail', summary !== undefined);
  document.body.dataset.voicemail = summary === undefined ? '' : summary.waiting ? 'waiting' : 'empty';
  setText('voicemail-count', summary ? voicemailWords(summary) : '');
  $<HTMLButtonElement>('voicemail-button').disabled = !summary?.account;
}

/** The dial field, its pad, the voicemail button, and the add-call button of the call screen. */
export function wireDialer(): void {
  keypad(
    'keypad',
    (key) => {
      const input = $<HTMLInputElement>('dial-input');
      input.value += key;
      input.focus();
    },
    'key',
  );
  $('dial-form').addEventListener('submit', (event) => {
    event.preventDefault();
    dialFromUi($<HTMLInputElement>('dial-input').value.trim());
  });
  $('voicemail-button').addEventListener('click', () => {
    const account = page.phone?.voicemail?.account;
    if (account) dialFromUi(account);
  });
  $('add-call-button').addEventListener('click', () => {
    document.body.dataset.adding = 'true';
    $<HTMLInputElement>('dial-input').focus();
  });
}

/**
 * sip: and tel: links: one opened here (?dial=) waits in the dial field for one press of Dial —
 * a link on another page must not place a call by itself — and a button offers this page as
 * their handler.
 */
export function wireDialLinks(params: URLSearchParams): void {
  const linked = dialLinkTarget(params.get('dial') ?? '');
  if (linked) {
    $<HTMLInputElement>('dial-input').value = linked;
    setText('dial-help', `From a link: press Dial to call ${linked}.`);
  }
  $('link-handler-button').addEventListener('click', () => {
    clearError();
    try {
      for (const scheme of ['sip', 'tel'])
        navigator.registerProtocolHandler(scheme, linkHandlerUrl(location));
      setText(
        'link-handler-state',
        'Your browser will ask, the first time, whether to open sip: and tel: links here.',
      );
    } catch (error) {
      setText('link-handler-state', '');
      showFailure('link-handler', error);
    }
  });
}
