import { parseNameAddr } from '../address.js';
import { header, type SipRequest } from '../message.js';

/** What happened to a call, as the proxy saw it pass (for observers such as rendezvous sessions). */
export interface CallEvent {
  /**
   * `invite`: an initial INVITE was forwarded to at least one callee; an `answered` or `rejected`
   * always follows it, when the caller gets its final response.
   * `reinvite`: an INVITE inside a call (hold, resume, the ICE restart after a reconnection).
   * `ringing`: a callee's provisional answer with a To tag (an early dialog) went to the caller.
   */
  type: 'invite' | 'reinvite' | 'ringing' | 'answered' | 'rejected' | 'bye';
  callId: string;
  fromUser: string | undefined;
  toUser: string | undefined;
  /** The caller's From tag and, once an early dialog exists, the callee's To tag. */
  fromTag?: string | undefined;
  toTag?: string | undefined;
  /** The final status of a rejected INVITE. */
  status?: number;
}

export interface ProxyEvents {
  /** A call was set up, answered, refused or ended through this proxy. */
  callEvent(event: CallEvent): void;
  /** A final response to an initial INVITE went back to the caller. */
  callCompleted(status: number, callId: string, setupMs: number): void;
  transactionsChanged(count: number): void;
}

/** The event of `type` about the call `request` belongs to. */
export function callEvent(
  type: CallEvent['type'],
  request: SipRequest,
  details: { status?: number; toTag?: string } = {},
): CallEvent {
  const from = parseNameAddr(header(request, 'From') ?? '');
  return {
    type,
    callId: header(request, 'Call-ID') ?? '',
    fromUser: from?.uri.user,
    toUser: parseNameAddr(header(request, 'To') ?? '')?.uri.user,
    fromTag: from?.params.tag ?? undefined,
    ...(details.toTag === undefined ? {} : { toTag: details.toTag }),
    ...(details.status === undefined ? {} : { status: details.status }),
  };
}
