import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseNameAddr } from '../sip/address.js';
import { header, type SipMessage, withHeader } from '../sip/message.js';

/**
 * The SIP header that hands a party of a call its token: on every INVITE the gateway passes to
 * a client, and on every 2xx to an INVITE it passes back. Clients' own values are stripped at
 * the edge (edge-headers.ts).
 */
export const CALL_TOKEN_HEADER = 'Ringway-Call-Token';

/**
 * Tokens that prove a party of a call routed here: HMAC(Call-ID, user) and the user, so the
 * quality report of `POST /api/calls/{callId}/quality` is taken only from someone the gateway
 * handed the token to — knowing a Call-ID is not enough. Stateless, and signed with a key from
 * the operator's secret, so a token outlives a restart of the gateway (and re-INVITEs hand out
 * fresh ones in any case).
 */
export class CallTokens {
  constructor(private readonly key: Buffer) {}

  /** `message` with the token of the party named by its `party` header (From or To). */
  stamp<M extends SipMessage>(message: M, party: 'From' | 'To'): M {
    const user = parseNameAddr(header(message, party) ?? '')?.uri.user;
    return withHeader(message, CALL_TOKEN_HEADER, this.issue(header(message, 'Call-ID') ?? '', user));
  }

  issue(callId: string, user: string | undefined): string {
    const party = Buffer.from(user ?? '').toString('base64url');
    return `${this.#mac(callId, party)}.${party}`;
  }

  /** The user a token speaks for in this call, or undefined when it is not one we issued for it. */
  verify(token: string, callId: string): string | undefined {
    const dot = token.indexOf('.');
    if (dot === -1) return undefined;
    const party = token.slice(dot + 1);
    const expected = Buffer.from(this.#mac(callId, party));
    const given = Buffer.from(token.slice(0, dot));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    return Buffer.from(party, 'base64url').toString();
  }

  #mac(callId: string, party: string): string {
    return createHmac('sha256', this.key).update(`${callId}\n${party}`).digest('hex').slice(0, 32);
  }
}
