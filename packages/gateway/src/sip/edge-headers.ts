import { CALL_TOKEN_HEADER } from '../calls/call-tokens.js';
import { canonicalHeaderName } from './header-names.js';
import type { SipMessage } from './message.js';

/**
 * Headers a client may not send through the edge: identities that only a trusted network
 * asserts (RFC 3325 §9.1 — an edge proxy removes P-Asserted-Identity from untrusted
 * sources; Remote-Party-ID is its older draft form), and the tokens only the gateway hands out.
 */
const UNTRUSTED_FROM_CLIENTS = new Set(
  ['P-Asserted-Identity', 'Remote-Party-ID', CALL_TOKEN_HEADER].map(canonicalHeaderName),
);

export function withoutUntrustedHeaders<M extends SipMessage>(message: M): M {
  if (!message.headers.some((h) => UNTRUSTED_FROM_CLIENTS.has(h.name))) return message;
  return { ...message, headers: message.headers.filter((h) => !UNTRUSTED_FROM_CLIENTS.has(h.name)) };
}
