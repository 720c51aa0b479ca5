import { header, type SipMessage } from './message.js';

/** The name this gateway signs its Warning headers with (RFC 3261 §20.43). */
export const AGENT = 'ringway';

/**
 * Methods that create a dialog when they are initial, so a proxy that wants to stay on the path
 * record-routes them: INVITE (RFC 3261 §12.1), SUBSCRIBE and the NOTIFY that may create its
 * dialog first (RFC 6665 §4.1.2.4, §4.2.2), REFER (RFC 3515 §2.4.6 by way of its implicit
 * subscription).
 */
export const DIALOG_CREATING: ReadonlySet<string> = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

/** Whether a request is outside any dialog: its To carries no tag yet (RFC 3261 §12.2, §8.1.1.2). */
export function isInitial(request: SipMessage): boolean {
  return !/;\s*tag=/i.test(header(request, 'To') ?? '');
}
