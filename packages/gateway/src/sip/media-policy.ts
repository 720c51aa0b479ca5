import {
  applyToAnswerWithCodec,
  applyToOfferReading,
  InvalidSdpError,
  NoCommonCodecError,
  type OfferedCodecs,
  type ResolvedPolicy,
} from '@ringway/sdp';
import type { Logger } from './logger.js';
import { detached, header, type SipMessage, type SipRequest, type SipResponse } from './message.js';
import { createResponse, warning } from './responses.js';

/** RFC 3261 §20.43 warn-code 305: "Incompatible media format". */
export const INCOMPATIBLE_MEDIA = 305;
/** Offers waiting for their answer in an ACK (late offer in a 2xx), by Call-ID; bounded. */
const MAX_PENDING_OFFERS = 1_000;
/** Methods whose SDP body is an offer when the request carries one (RFC 3264, RFC 3311). */
const OFFERING_METHODS = new Set(['INVITE', 'UPDATE']);

/** Why an offer is refused: no codec both sides may use (488), or no readable SDP at all (400). */
export type Refusal =
  | { status: 488; warning: string; offered: readonly string[] }
  | { status: 400; warning: string; offered?: undefined };

/**
 * A request policed: the message to forward and, when it carries an offer, what the offer holds
 * its answer to (`response` takes it back, so the offer is read once per transaction).
 */
export type PolicyOutcome<M> = { message: M; offered?: OfferedCodecs } | { reject: Refusal };

/** The answer to a refused offer, before anyone rings: 488 with warn-code 305, or 400 with 399. */
export function refusalResponse(request: SipRequest, refusal: Refusal): SipResponse {
  const code = refusal.status === 488 ? INCOMPATIBLE_MEDIA : 399;
  return createResponse(request, refusal.status, [warning('ringway', refusal.warning, code)]);
}

const hasSdp = (message: SipMessage) =>
  message.body.length > 0 && /^application\/sdp\b/i.test(header(message, 'Content-Type') ?? '');

/**
 * A codec policy applied to SDP bodies as they cross the proxy (INVITE, UPDATE, 18x, 2xx, ACK):
 * offers are filtered and ordered; answers are kept within the offer they answer. An offer with
 * no codec left is refused with 488 before the callee rings.
 */
export class MediaPolicy {
  /** Late offers (in a 2xx) waiting for their answer in the ACK, by Call-ID: what each holds it to. */
  readonly #lateOffers = new Map<string, OfferedCodecs>();

  constructor(
    private readonly policy: ResolvedPolicy,
    private readonly log: Logger,
    private readonly onNegotiated: (codec: string, callId: string) => void,
  ) {}

  /** A request about to be forwarded: its offer rewritten, or the reason to refuse it. */
  request(request: SipRequest): PolicyOutcome<SipRequest> {
    if (!hasSdp(request)) return { message: request };
    const callId = header(request, 'Call-ID') ?? '';
    if (request.method === 'ACK') {
      const offer = this.#lateOffers.get(callId);
      this.#lateOffers.delete(callId);
      return { message: offer ? this.#answer(request, offer, callId) : request };
    }
    if (!OFFERING_METHODS.has(request.method)) return { message: request };
    try {
      const { sdp, offered } = applyToOfferReading(request.body, this.policy);
      return { message: { ...request, body: sdp }, offered };
    } catch (error) {
      // The sender's mistake: a clear refusal, never a 500 or an error log.
      if (error instanceof InvalidSdpError)
        return { reject: { status: 400, warning: `malformed SDP offer: ${error.message}` } };
      if (!(error instanceof NoCommonCodecError)) throw error;
      const warning = `Incompatible media format: offered ${error.offered.join(' ') || 'none'}; allowed ${error.allowed.join(' ')}`;
      return { reject: { status: 488, warning, offered: error.offered } };
    }
  }

  /**
   * A response about to go back: an answer kept within `forwarded`'s offer (`offered`, what
   * `request` read of it, if kept), or a late offer filtered.
   */
  response(response: SipResponse, forwarded: SipRequest, offered?: OfferedCodecs): SipResponse {
    if (!hasSdp(response) || response.status >= 300) return response;
    const callId = header(response, 'Call-ID') ?? '';
    if (offered !== undefined || hasSdp(forwarded))
      return this.#answer(response, offered ?? forwarded.body, callId);
    if (forwarded.method !== 'INVITE' || response.status < 200) return response;
    // A late offer (RFC 3261 §13.2.1): the 2xx offers, the ACK will answer.
    try {
      const { sdp, offered } = applyToOfferReading(response.body, this.policy);
      if (this.#lateOffers.size >= MAX_PENDING_OFFERS)
        this.#lateOffers.delete(this.#lateOffers.keys().next().value as string);
      this.#lateOffers.set(detached(callId), offered);
      return { ...response, body: sdp };
    } catch (error) {
      // The callee has answered: dropping its 2xx would leave the caller with nothing, so pass it on.
      if (error instanceof InvalidSdpError) {
        this.log.warn(
          { callId, problem: error.message },
          'late offer in 2xx is not SDP; passed on unchanged',
        );
        return response;
      }
      if (!(error instanceof NoCommonCodecError)) throw error;
      this.log.warn(
        { callId, offered: error.offered },
        'late offer in 2xx has no allowed codec; passed on unchanged',
      );
      return response;
    }
  }

  #answer<M extends SipMessage>(message: M, offer: string | OfferedCodecs, callId: string): M {
    try {
      const { sdp: answer, codec } = applyToAnswerWithCodec(offer, message.body, this.policy);
      if (codec && (message.kind === 'request' || message.status >= 200)) this.onNegotiated(codec, callId);
      return { ...message, body: answer };
    } catch (error) {
      if (!(error instanceof NoCommonCodecError || error instanceof InvalidSdpError)) throw error;
      // The callee has already answered; refusing now would leave a half-made call, so pass it on and say so.
      this.log.warn(
        { callId, problem: error.message },
        'answer outside the codec policy; passed on unchanged',
      );
      return message;
    }
  }
}
