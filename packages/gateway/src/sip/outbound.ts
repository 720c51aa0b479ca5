import { parseNameAddr } from './address.js';
import { headers, type SipRequest } from './message.js';

/**
 * Whether a REGISTER asks for outbound (RFC 5626 §4.2.1): `Supported: outbound` and a Contact
 * naming its instance (`+sip.instance`) and flow (`reg-id`). Only then does the first hop mark its
 * Path with `ob` (§5.1), and only then may the registrar answer `Require: outbound` (§6); a client
 * that did not ask must not be told it holds an outbound flow.
 */
export function asksForOutbound(register: SipRequest): boolean {
  if (!supportedTags(register).includes('outbound')) return false;
  return headers(register, 'Contact').some((value) => {
    const params = parseNameAddr(value)?.params;
    return params?.['+sip.instance'] !== undefined && params['reg-id'] !== undefined;
  });
}

/** The option tags a request says it supports (RFC 3261 §20.37), lower-cased. */
export function supportedTags(request: SipRequest): string[] {
  return headers(request, 'Supported').flatMap((v) => v.split(',').map((t) => t.trim().toLowerCase()));
}
