import type { OfferedCodecs } from '@ringway/sdp';
import type { Flow } from '../flow.js';
import { header, headers, retainedRequest, type SipRequest, type SipResponse } from '../message.js';
import { parseVia, viaParam } from '../via.js';
import { MAGIC_COOKIE } from './branch-id.js';

/**
 * State of one forwarded request on one target (RFC 3261 §17.1, seen from a proxy):
 * 1. "trying" --> "proceeding"  (a provisional response came)
 * 2. "trying" --> "completed"   (a final response came, or Timer B/F fired: a made-up 408)
 * 3. "proceeding" --> "completed"  (a final response came, or the callee never answered the
 *    CANCEL that Timer C sent, or its connection closed)
 * Only a "proceeding" INVITE branch may be cancelled (RFC 3261 §9.1); a "trying" one remembers
 * that it should be, and is cancelled when its first provisional arrives. A "completed" INVITE
 * branch still ACKs every non-2xx final that reaches it (§17.1.1.3) and passes on every 2xx
 * (§16.7 step 5), until its server transaction is forgotten.
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
  /** Timer C fired and the branch was cancelled: it now only waits for the callee's final answer. */
  timedOut: boolean;
  /**
   * The callee's own final answer came, or its connection closed: nothing new can come on this
   * branch. A branch ended by a timer (a made-up 408) may still hear a late 2xx.
   */
  heard: boolean;
  /**
   * The 2xx to an INVITE as it went back, for the UAS's retransmissions of it: their To (which
   * tells one answer from another callee's), and the text sent. Serialised, so that a lingering
   * transaction holds one string for it rather than the message it came in (its head, body and
   * header objects) for 32 s.
   */
  answer?: { to: string; text: string };
  timer?: NodeJS.Timeout;
}

/**
 * A request the proxy took responsibility for (RFC 3261 §16: a stateful proxy's server
 * transaction together with its response context). It is "final" once a final response went
 * back to the client; an INVITE one lingers after that to absorb retransmissions and the ACK of
 * a non-2xx answer, to answer a late CANCEL and to pass on late 2xx (RFC 6026 "Accepted"), until
 * none of that can happen any more (ProxyTransactions #settled) or 32 s have passed.
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
  /** The status of the first final response sent back, once sent. */
  finalStatus: number | undefined;
  /**
   * What a retransmission of the request is answered with (RFC 3261 §17.2.1): the last
   * provisional, or the non-2xx final. Serialised, so that it shares nothing with the message it
   * came in. After a 2xx, nothing: retransmissions are only absorbed (RFC 6026 §7.1).
   */
  lastResponse: string | undefined;
  cancelled: boolean;
  /** The caller's ACK came: absorbed here after a non-2xx final, passed on after a 2xx. */
  acknowledged: boolean;
  readonly startedAt: number;
  /**
   * What the codec policy read of the request's offer, held to by every branch's answer
   * (MediaPolicy.response). Kept while the transaction lingers, when the branches keep no body:
   * a callee's 2xx after the branch ended (Timer C, another branch's 6xx) still answers it.
   */
  offered: OfferedCodecs | undefined;
}

/**
 * The key of the server transaction a request belongs to (RFC 3261 §17.2.3): the top Via's
 * branch and sent-by, and the method, ACK and CANCEL matched to their INVITE. The connection
 * takes part too: a WebSocket client's sent-by is a made-up `.invalid` name (RFC 7118 §5.2) that
 * two clients may share, and a request of a transaction never changes connection (§18.2.2).
 * A branch without the magic cookie (RFC 2543) is not unique, so the dialog and CSeq number are
 * added to it (§17.2.3's older rule, in part).
 */
export function transactionKey(request: SipRequest, flowId: string): string {
  const via = parseVia(header(request, 'Via') ?? '');
  const branch = (via && viaParam(via, 'branch')) ?? '';
  const sentBy = via ? `${via.host}:${via.port ?? ''}` : '';
  const method = request.method === 'ACK' || request.method === 'CANCEL' ? 'INVITE' : request.method;
  const key = `${flowId}|${sentBy}|${branch}|${method}`;
  if (branch.startsWith(MAGIC_COOKIE)) return key;
  const cseq = (header(request, 'CSeq') ?? '').trim().split(/\s+/)[0];
  return `${key}|${header(request, 'Call-ID') ?? ''}|${fromTag(request)}|${cseq}`;
}

function fromTag(request: SipRequest): string {
  return /;\s*tag=([^;\s]+)/i.exec(header(request, 'From') ?? '')?.[1] ?? '';
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

/**
 * A request for the same hop as `branch`'s INVITE, made from its hop headers: the CANCEL of the
 * branch (RFC 3261 §9.1) or the ACK of a non-2xx final response, with that response's To
 * (§17.1.1.3).
 */
export function hopRequest(branch: ClientBranch, method: 'CANCEL' | 'ACK', to: string): SipRequest {
  const original = branch.request;
  const cseq = Number.parseInt(header(original, 'CSeq') ?? '0', 10);
  return {
    kind: 'request',
    method,
    uri: original.uri,
    headers: [
      { name: 'Via', value: header(original, 'Via') as string },
      ...headers(original, 'Route').map((value) => ({ name: 'Route', value })),
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: header(original, 'From') as string },
      { name: 'To', value: to },
      { name: 'Call-ID', value: header(original, 'Call-ID') as string },
      { name: 'CSeq', value: `${cseq} ${method}` },
    ],
    body: '',
  };
}
