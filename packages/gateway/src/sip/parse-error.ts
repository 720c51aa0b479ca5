import type { SipHeaderField } from './message.js';

/**
 * A message that could not be parsed. `warning` is the text for a Warning header (RFC 3261
 * §20.43, code 399) and `status` the response to send (400, or 505 for a SIP version we do not
 * speak); `partial` holds what was read, so that a response can still be built when the fields a
 * response needs (Via, From, To, Call-ID, CSeq) survived.
 */
export class SipParseError extends Error {
  override name = 'SipParseError';
  constructor(
    readonly warning: string,
    readonly partial?: { method: string; headers: SipHeaderField[] },
    readonly status: 400 | 505 = 400,
  ) {
    super(warning);
  }
}
