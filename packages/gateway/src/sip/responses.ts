import { header, type SipHeaderField, type SipRequest, type SipResponse } from './message.js';
import { randomToken } from './random-token.js';
import { REASON_PHRASES } from './reason-phrases.js';

/** Headers a response copies from its request (RFC 3261 §8.2.6.2). */
const COPIED = new Set(['Via', 'From', 'Call-ID', 'CSeq']);

export function newTag(): string {
  return randomToken();
}

/**
 * Builds a response the gateway itself sends to a request (RFC 3261 §8.2.6). A To tag is added
 * to final responses when the request had none, as §8.2.6.2 asks.
 */
export function createResponse(
  request: { headers: SipHeaderField[] },
  status: number,
  extra: SipHeaderField[] = [],
  reason: string = REASON_PHRASES[status] ?? 'Unknown',
  toTag: string = newTag(),
): SipResponse {
  const copied = request.headers.filter((h) => COPIED.has(h.name));
  const to = request.headers.find((h) => h.name === 'To')?.value;
  const fields = [...copied];
  if (to !== undefined) {
    const needsTag = status > 100 && !/;\s*tag=/i.test(to);
    fields.push({ name: 'To', value: needsTag ? `${to};tag=${toTag}` : to });
  }
  return { kind: 'response', status, reason, headers: [...fields, ...extra], body: '' };
}

/** A Warning header value (RFC 3261 §20.43) for a problem the gateway found; 399 is "miscellaneous". */
export function warning(agent: string, text: string, code = 399): SipHeaderField {
  return { name: 'Warning', value: `${code} ${agent} "${text.replace(/["\\]/g, "'")}"` };
}

/** The CSeq method of a message. */
export function cseqMethod(message: SipRequest | SipResponse): string {
  return (header(message, 'CSeq') ?? '').trim().split(/\s+/)[1] ?? '';
}
