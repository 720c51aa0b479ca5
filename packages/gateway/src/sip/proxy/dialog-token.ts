import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseNameAddr } from '../address.js';
import { header, type SipRequest } from '../message.js';

/** The Record-Route URI parameter that carries the token. */
export const DIALOG_TOKEN_PARAM = 'dlg';

/**
 * Tokens the gateway writes into its own Record-Route (RFC 3261 §16.6 step 4 lets a proxy put
 * what it needs there; the route set then brings it back on every request of the dialog). A
 * token binds the Call-ID to the dialog's two parties, so an in-dialog request is relayed only
 * for a dialog this gateway routed and between those two users — stateless, so it survives a
 * restart, and it cannot be forged without the key. Kamailio's default script has no such
 * check: any To tag passes there.
 */
export class DialogTokens {
  constructor(private readonly key: Buffer) {}

  /** The token of the dialog a request creates or belongs to: its Call-ID, its From and To users. */
  signRequest(request: SipRequest): string {
    return this.sign(...dialogOf(request));
  }

  verifyRequest(token: string, request: SipRequest): boolean {
    return this.verify(token, ...dialogOf(request));
  }

  /** The token of a dialog between `a` and `b` (either order). */
  sign(callId: string, a: string | undefined, b: string | undefined): string {
    const [first, second] = [a ?? '', b ?? ''].sort();
    return createHmac('sha256', this.key).update(`${callId}\n${first}\n${second}`).digest('hex').slice(0, 32);
  }

  verify(token: string, callId: string, a: string | undefined, b: string | undefined): boolean {
    const expected = Buffer.from(this.sign(callId, a, b));
    // Hex, because URI parameter values are compared case-insensitively (and parsed lower-cased).
    const given = Buffer.from(token.toLowerCase());
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

function dialogOf(request: SipRequest): [callId: string, from: string | undefined, to: string | undefined] {
  return [
    header(request, 'Call-ID') ?? '',
    parseNameAddr(header(request, 'From') ?? '')?.uri.user,
    parseNameAddr(header(request, 'To') ?? '')?.uri.user,
  ];
}
