import { SipRefusal } from '../sip-refusal.js';

/** What a person can do on the page that may fail after the click. */
export type UserAction =
  | 'dial'
  | 'answer'
  | 'decline'
  | 'hangup'
  | 'hold'
  | 'resume'
  | 'transfer'
  | 'dtmf'
  | 'microphone'
  | 'speaker'
  | 'sign-in'
  | 'call-link'
  | 'join'
  | 'link-handler';

/** The banner's first words for each action, as data. */
export const ACTION_WORDS: Readonly<Record<UserAction, string>> = {
  dial: 'Could not place the call',
  answer: 'Could not answer',
  decline: 'Could not decline the call',
  hangup: 'Could not hang up',
  hold: 'Could not put the call on hold',
  resume: 'Could not take the call off hold',
  transfer: 'Could not transfer the call',
  dtmf: 'Could not send the key',
  microphone: 'Could not switch the microphone',
  speaker: 'Could not switch the speaker',
  'sign-in': 'Could not sign in',
  'call-link': 'Could not start a call link',
  join: 'Could not join the call link',
  'link-handler': 'Could not open sip: and tel: links here',
};

/** Refusals that pass by themselves, and what a person should do then (RFC 3261 §21). */
const RETRY_WORDS: Readonly<Record<number, string>> = {
  491: 'the other side was changing the call at the same moment: try again',
  500: 'try again',
  503: 'try again in a moment',
};

/** The reason of a failure, as a person reads it: a SIP refusal's status and reason phrase first. */
export function failureReason(error: unknown): string {
  if (error instanceof SipRefusal) {
    const refusal = `${error.status} ${error.reasonPhrase}`.trim();
    const hint = RETRY_WORDS[error.status];
    return hint ? `${refusal} (${hint})` : refusal;
  }
  if (error instanceof Error)
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}

/** The error banner's text for a failed action. */
export function actionFailure(action: UserAction, error: unknown): string {
  return `${ACTION_WORDS[action]}: ${failureReason(error)}`;
}

/** A sent chat message's delivery, as its line in the chat log ends. */
export function deliveryText(outcome: 'sending' | 'delivered' | { failed: unknown }): string {
  if (typeof outcome === 'string') return outcome;
  const error = outcome.failed;
  const reason =
    error instanceof SipRefusal ? `${error.status} ${error.reasonPhrase}`.trim() : failureReason(error);
  return `failed (${reason})`;
}
