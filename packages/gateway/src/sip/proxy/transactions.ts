import type { Flow } from '../flow.js';
import { retainedRequest, type SipRequest, type SipResponse } from '../message.js';

/**
 * State of one forwarded request on one target (RFC 3261 §17.1, seen from a proxy):
 * 1. "trying" --> "proceeding"  (a provisional response came)
 * 2. "trying" --> "completed"   (a final response came, or the branch timed out)
 * 3. "proceeding" --> "completed"
 * Only a "proceeding" INVITE branch may be cancelled (RFC 3261 §9.1); a "trying" one remembers
 * that it should be, and is cancelled when its first provisional arrives.
 */
export type BranchState = 'trying' | 'proceeding' | 'completed';

export interface ClientBranch {
  readonly id: string;
  readonly flow: Flow;
  /** The request sent on this branch; only its hop headers once the transaction is final. */
  request: SipRequest;
  readonly server: ServerTransaction;
  state: BranchState;
  cancelWanted: boolean;
  finalStatus?: number;
  /** The 2xx to an INVITE as it went back, for the UAS's retransmissions of it. */
  answer?: SipResponse;
  timer?: NodeJS.Timeout;
}

/**
 * A request the proxy took responsibility for (RFC 3261 §16: a stateful proxy's server
 * transaction together with its response context). It is "final" once a final response went
 * back to the client; it lingers after that to absorb the ACK of a non-2xx answer and to answer
 * a late CANCEL.
 */
export interface ServerTransaction {
  readonly key: string;
  /** The request taken; only its hop headers once the final response went back. */
  request: SipRequest;
  readonly flow: Flow;
  readonly callId: string;
  readonly branches: ClientBranch[];
  /** Final responses of completed branches, for choosing the best one (RFC 3261 §16.7 step 6). */
  finals: SipResponse[];
  finalSent: boolean;
  cancelled: boolean;
  lingerTimer?: NodeJS.Timeout;
  readonly startedAt: number;
}

/** The transaction key of a request: its top Via branch, with ACK and CANCEL matched to their INVITE. */
export function transactionKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' || method === 'CANCEL' ? 'INVITE' : method}`;
}

/** Headers a lingering transaction still needs: to build an ACK or CANCEL of a branch (RFC 3261 §9.1). */
const HOP_HEADERS = new Set(['Via', 'Route', 'From', 'To', 'Call-ID', 'CSeq']);

/**
 * A request reduced to what a finished transaction still reads, so that a lingering one holds
 * a few hundred bytes rather than a whole request of up to 64 KB for 32 s.
 */
export function hopHeadersOnly(request: SipRequest): SipRequest {
  return retainedRequest(request, { headers: HOP_HEADERS });
}
