import type { OfferedCodecs } from '@ringway/sdp';
import type { CallTokens } from '../../calls/call-tokens.js';
import { parseNameAddr } from '../address.js';
import { AGENT, isInitial } from '../dialog-rules.js';
import type { Flow } from '../flow.js';
import type { Logger } from '../logger.js';
import type { MediaPolicy } from '../media-policy.js';
import {
  detached,
  header,
  type SipRequest,
  type SipResponse,
  withHeaderPrepended,
  withoutFirstHeader,
} from '../message.js';
import { createResponse, cseqMethod, warning } from '../responses.js';
import { serializeSipMessage } from '../serializer.js';
import { parseVia, viaParam } from '../via.js';
import { bestResponse } from './best-response.js';
import { newBranch } from './branch-id.js';
import { callEvent, type ProxyEvents } from './call-events.js';
import type { Target } from './routing.js';
import {
  type ClientBranch,
  hopHeadersOnly,
  hopRequest,
  type ServerTransaction,
  transactionKey,
} from './transactions.js';

/**
 * How long a finished INVITE transaction is kept at most (Timer H and Timer L, 64·T1): to absorb
 * the ACK of a non-2xx answer, to pass on the callee's 2xx retransmissions and late 2xx (RFC 6026
 * §7.1), to answer a late CANCEL. It goes sooner once none of that can happen (#settled). Every
 * other transaction is forgotten at once: on a reliable transport Timer J is 0 (RFC 3261
 * §17.2.2), and WebSocket is one.
 */
const INVITE_LINGER_MS = 32_000;
/** How often lingering transactions past their time are forgotten: they linger up to this much longer. */
const LINGER_SWEEP_MS = 1000;
/**
 * Server transactions in progress (no final answer yet) at most: past it, new requests get 503,
 * so that requests nobody answers cannot fill memory.
 */
const MAX_TRANSACTIONS = 20_000;
/**
 * Finished INVITE transactions kept lingering at most (hop headers only, about a kilobyte each):
 * past it the oldest are forgotten early (LINGER_EVICTION_BATCH at a time) rather than a new call
 * refused. Lingering is bookkeeping for retransmissions; counted with the transactions in
 * progress, it refused every call past 20,000 / 32 s = 625 calls/s (bench:calls runs 1,800/s).
 */
const MAX_LINGERING = 50_000;
/**
 * Lingering transactions forgotten together once there are too many: finding a Map's oldest key
 * skips the holes that earlier deletions left at its front, so one pass forgets many rather than
 * every new call making that walk (issue 28).
 */
const LINGER_EVICTION_BATCH = 500;
/**
 * Requests of one connection waiting for their final answer at most: a softphone has a handful
 * in flight; a client with more is flooding, and each holds a whole request until Timer B/C.
 */
const MAX_PENDING_PER_FLOW = 100;

export interface ProxyTimers {
  /** Timer B/F: no final (or, for INVITE, no provisional) answer from a branch. */
  transactionMs: number;
  /** Timer C: an INVITE branch rang this long after its last provisional. */
  inviteMs: number;
}

export interface ProxyTransactionsDependencies {
  /** host:port written into our Via. */
  sentBy: () => string;
  timers: ProxyTimers;
  log: Logger;
  events: ProxyEvents;
  /** The codec policy applied to the answers that come back. */
  media: MediaPolicy;
  /** Hands each party of a call its quality-report token. */
  callTokens: CallTokens;
}

/**
 * The transaction engine of the stateful proxy (RFC 3261 §16.6–§16.10, §17): a server
 * transaction per request taken, a client branch per target, Timer B/C/F, the choice of the best
 * response, CANCEL and the ACK of non-2xx answers. Knows nothing of routing: it is given the
 * targets and the request to send each.
 */
export class ProxyTransactions {
  readonly #servers = new Map<string, ServerTransaction>();
  readonly #branches = new Map<string, ClientBranch>();
  /** Server transactions without a final answer yet, by the flow that sent them. */
  readonly #pendingByFlow = new Map<string, number>();
  /**
   * Finished INVITE transactions absorbing retransmissions, oldest first, each with when it is
   * forgotten: one sweep a second forgets those past it, rather than a timer per call.
   */
  readonly #lingering = new Map<ServerTransaction, number>();
  #lingerSweep: NodeJS.Timeout | undefined;
  /**
   * Lingering INVITE transactions a 2xx answered whose ACK has not passed yet, by the caller's
   * connection, Call-ID and CSeq number (what its ACK carries, with a branch of its own).
   */
  readonly #awaitingAck = new Map<string, ServerTransaction>();

  constructor(private readonly deps: ProxyTransactionsDependencies) {}

  /** True while any transaction still waits for its final response. */
  get busy(): boolean {
    return [...this.#servers.values()].some((s) => s.finalStatus === undefined);
  }

  close(): void {
    clearInterval(this.#lingerSweep);
    this.#lingerSweep = undefined;
    this.#awaitingAck.clear();
    for (const branch of this.#branches.values()) clearTimeout(branch.timer);
    this.#servers.clear();
    this.#lingering.clear();
    this.#pendingByFlow.clear();
    this.#branches.clear();
  }

  /**
   * A request of a transaction in progress or lingering (a retransmission, RFC 3261 §17.2.1,
   * §17.2.2): it is answered with the last response sent, if any, and goes no further.
   */
  retransmission(request: SipRequest, flow: Flow): boolean {
    const server = this.#servers.get(transactionKey(request, flow.id));
    if (!server) return false;
    this.deps.log.debug({ callId: server.callId }, 'retransmission absorbed');
    if (server.lastResponse !== undefined) flow.send(server.lastResponse);
    return true;
  }

  /** Why a new transaction from `flow` cannot be taken now (a 503 text), or undefined. */
  refusal(flow: Flow): string | undefined {
    const pending = this.#pendingByFlow.get(flow.id) ?? 0;
    const inProgress = this.#servers.size - this.#lingering.size;
    if (inProgress >= MAX_TRANSACTIONS || pending >= MAX_PENDING_PER_FLOW)
      return 'too many requests in progress';
    return undefined;
  }

  /**
   * Takes `request` (RFC 3261 §16.6): a server transaction, and a branch per target, each
   * sending that target's copy. An initial INVITE is told (`invite`) only now, so that an
   * `answered` or `rejected` always follows it. `offered` is what the codec policy read of the
   * request's offer, for the answers (MediaPolicy).
   */
  start(
    request: SipRequest,
    flow: Flow,
    targets: ReadonlyArray<{ target: Target; request: SipRequest }>,
    offered?: OfferedCodecs,
  ): void {
    const key = detached(transactionKey(request, flow.id));
    this.#pendingByFlow.set(flow.id, (this.#pendingByFlow.get(flow.id) ?? 0) + 1);
    const server: ServerTransaction = {
      key,
      request,
      flow,
      callId: detached(header(request, 'Call-ID') as string),
      branches: [],
      finals: [],
      finalStatus: undefined,
      lastResponse: undefined,
      cancelled: false,
      acknowledged: false,
      startedAt: Date.now(),
      offered,
    };
    this.#servers.set(key, server);
    this.deps.events.transactionsChanged(this.#servers.size);
    if (request.method === 'INVITE') this.#respond(server, createResponse(request, 100));
    for (const { target, request: copy } of targets) this.#fork(server, copy, target);
    if (request.method === 'INVITE' && isInitial(request)) this.#tell('invite', request);
  }

  handleResponse(response: SipResponse, flow: Flow): void {
    const via = parseVia(header(response, 'Via') ?? '');
    const branch = via && this.#branches.get(viaParam(via, 'branch') ?? '');
    // A response comes back on the connection its request went out on (RFC 3261 §18.1.2).
    if (!branch || branch.flow.id !== flow.id) {
      this.deps.log.debug({ status: response.status }, 'response matches no transaction; dropped');
      return;
    }
    // The answer to our own CANCEL ends there (RFC 3261 §16.10).
    if (cseqMethod(response) !== branch.request.method) return;
    if (response.status < 200) return this.#provisional(branch, response);
    const isInvite = branch.request.method === 'INVITE';
    if (isInvite && response.status < 300) return this.#inviteSuccess(branch, response);
    if (isInvite) {
      // The branch's client transaction ACKs every non-2xx final itself, a retransmitted one or
      // one that comes after the branch ended (Timer C, a lost connection) alike (§17.1.1.3).
      this.#sendAck(branch, response);
      branch.heard = true;
      if (branch.state === 'completed') return this.#forgetIfSettled(branch.server);
      // Our CANCEL made this 487 (Timer C): for the caller, the callee did not answer in time.
      this.#complete(
        branch,
        branch.timedOut && response.status === 487
          ? this.#noAnswerInTime(branch)
          : withoutFirstHeader(response, 'Via'),
      );
      if (response.status >= 600) this.#cancelBranches(branch.server);
      this.#maybeFinish(branch.server);
      return this.#forgetIfSettled(branch.server);
    }
    if (branch.state === 'completed') return;
    const forwarded = this.#policed(branch, response);
    if (response.status >= 300) {
      this.#complete(branch, forwarded);
      return this.#maybeFinish(branch.server);
    }
    this.#complete(branch);
    if (branch.server.finalStatus === undefined) {
      this.#respond(branch.server, forwarded);
      this.#finished(branch.server, response.status);
    }
  }

  /** A CANCEL from `flow` (RFC 3261 §16.10): answered here, and passed on to every branch. */
  cancel(request: SipRequest, flow: Flow): void {
    // The key holds the connection: a CANCEL travels the INVITE's hop (RFC 3261 §9.1), and one
    // from another connection is somebody who learnt the branch, not the caller.
    const server = this.#servers.get(transactionKey(request, flow.id));
    if (!server) {
      this.#send(flow, createResponse(request, 481, [warning(AGENT, 'no INVITE to cancel')]));
      return;
    }
    this.#send(flow, createResponse(request, 200));
    if (server.finalStatus !== undefined) return;
    server.cancelled = true;
    this.#cancelBranches(server);
  }

  /**
   * Takes an ACK that ends at our server transaction, and says whether it did: the ACK of a
   * non-2xx final response we sent (RFC 3261 §17.2.1), or a stray one before any. The ACK of a
   * 2xx is a transaction of its own, routed end to end (§16.11), even from a client that reuses
   * the INVITE's branch for it.
   */
  absorbAck(request: SipRequest, flow: Flow): boolean {
    const server = this.#servers.get(transactionKey(request, flow.id));
    if (server === undefined || (server.finalStatus !== undefined && server.finalStatus < 300)) return false;
    if (server.finalStatus !== undefined) {
      server.acknowledged = true;
      this.#forgetIfSettled(server);
    }
    return true;
  }

  /**
   * The ACK of a 2xx passed on its way to the callee (RFC 3261 §13.2.2.4): the UAS stops
   * resending its 2xx (§13.3.1.4), so the answer kept for those retransmissions goes. A late
   * copy still finds its branch, and is passed on policed and stamped anew.
   */
  acknowledged(ack: SipRequest, flow: Flow): void {
    const key = ackKey(flow.id, ack);
    const server = this.#awaitingAck.get(key);
    if (!server) return;
    this.#awaitingAck.delete(key);
    for (const branch of server.branches) branch.answer = undefined;
    server.acknowledged = true;
    this.#forgetIfSettled(server);
  }

  /** The flow went away: its callers' requests are cancelled, requests waiting on it fail. */
  flowClosed(flowId: string): void {
    for (const server of this.#servers.values()) {
      if (server.flow.id === flowId && server.finalStatus === undefined) {
        server.cancelled = true;
        this.#cancelBranches(server);
      }
    }
    for (const branch of this.#branches.values()) {
      if (branch.flow.id !== flowId) continue;
      branch.heard = true;
      if (branch.state !== 'completed') {
        this.#complete(branch, this.#madeUp(branch, 480, 'the callee’s connection closed'));
        this.#maybeFinish(branch.server);
      }
      this.#forgetIfSettled(branch.server);
    }
  }

  #provisional(branch: ClientBranch, response: SipResponse): void {
    if (branch.state === 'completed') return;
    const { server } = branch;
    const isInvite = branch.request.method === 'INVITE';
    if (branch.state === 'trying') {
      branch.state = 'proceeding';
      if (isInvite && !branch.timedOut) this.#armTimer(branch, this.deps.timers.inviteMs);
      if (branch.cancelWanted) this.#sendCancel(branch);
    } else if (isInvite && response.status > 100 && !branch.timedOut) {
      // RFC 3261 §16.8: Timer C restarts with each provisional response but 100.
      this.#armTimer(branch, this.deps.timers.inviteMs);
    }
    if (response.status === 100 || server.finalStatus !== undefined) return;
    this.#respond(server, this.#policed(branch, response));
    const toTag = parseNameAddr(header(response, 'To') ?? '')?.params.tag ?? undefined;
    if (isInvite && toTag && isInitial(server.request)) this.#tell('ringing', server.request, { toTag });
  }

  /**
   * A 2xx to an INVITE always goes to the caller (RFC 3261 §16.7 step 5), even after another
   * final response did, or after Timer C cancelled the branch: the callee has answered and
   * waits for its ACK. The other branches are cancelled (§16.7 step 10).
   */
  #inviteSuccess(branch: ClientBranch, response: SipResponse): void {
    const { server } = branch;
    if (branch.answer && branch.answer.to === header(response, 'To')) {
      // A UAS retransmits its 2xx until the ACK arrives (RFC 3261 §13.3.1.4): pass each on as the first.
      server.flow.send(branch.answer.text);
      return;
    }
    branch.heard = true;
    const policed = this.#policed(branch, response);
    // The caller's token for its quality report, on the answer that makes the call.
    const forwarded = this.deps.callTokens.stamp(policed, 'From');
    const text = serializeSipMessage(forwarded);
    branch.answer = { to: detached(header(forwarded, 'To') ?? ''), text };
    if (branch.state !== 'completed') this.#complete(branch);
    server.flow.send(text);
    if (server.finalStatus === undefined) {
      // Nothing to resend to a retransmitted INVITE once a 2xx went (RFC 6026 §7.1).
      server.lastResponse = undefined;
      this.#finished(server, response.status);
    }
    this.#cancelBranches(server);
    // A 2xx after the caller's ACK of another branch's: the caller has it (WebSocket loses
    // nothing) and acknowledges it end to end; its retransmissions need not be passed on.
    this.#forgetIfSettled(server);
  }

  #fork(server: ServerTransaction, request: SipRequest, target: Target): void {
    const id = newBranch(server.request);
    // The callee's token for its quality report (any INVITE: a re-INVITE after a restart hands a fresh one).
    const stamped = request.method === 'INVITE' ? this.deps.callTokens.stamp(request, 'To') : request;
    const branchRequest = withHeaderPrepended(
      { ...stamped, uri: target.uri },
      'Via',
      `SIP/2.0/${target.flow.transport} ${this.deps.sentBy()};branch=${id}`,
    );
    const branch: ClientBranch = {
      id,
      flow: target.flow,
      request: branchRequest,
      server,
      state: 'trying',
      cancelWanted: server.cancelled,
      timedOut: false,
      heard: false,
    };
    this.#branches.set(id, branch);
    server.branches.push(branch);
    this.#armTimer(branch, this.deps.timers.transactionMs);
    this.#send(target.flow, branchRequest);
  }

  #armTimer(branch: ClientBranch, ms: number): void {
    clearTimeout(branch.timer);
    branch.timer = setTimeout(() => this.#timedOut(branch), ms);
    branch.timer.unref();
  }

  /**
   * Timer B/F, or Timer C (RFC 3261 §16.8). A branch that has not answered at all is taken as
   * having answered 408. A ringing INVITE branch is cancelled, and stays open for the callee's
   * final answer, which may still be a 2xx (§16.7 step 5): only when that answer does not come
   * either (64·T1 more, §9.1) does the branch end with a made-up 408.
   */
  #timedOut(branch: ClientBranch): void {
    if (branch.state === 'completed') return;
    if (branch.state === 'proceeding' && branch.request.method === 'INVITE' && !branch.timedOut) {
      branch.timedOut = true;
      this.#sendCancel(branch);
      this.#armTimer(branch, this.deps.timers.transactionMs);
      return;
    }
    this.#complete(branch, this.#noAnswerInTime(branch));
    this.#maybeFinish(branch.server);
  }

  /** The 408 of a branch that timed out (RFC 3261 §16.8). */
  #noAnswerInTime(branch: ClientBranch): SipResponse {
    return this.#madeUp(branch, 408, `no final answer from ${branch.request.uri} in time`);
  }

  /** A final response the proxy makes up for a branch (timeout, lost connection). */
  #madeUp(branch: ClientBranch, status: number, text: string): SipResponse {
    return createResponse(branch.server.request, status, [warning(AGENT, text)]);
  }

  /** Ends a branch; its non-2xx final, if any, joins the response context (RFC 3261 §16.7 step 3). */
  #complete(branch: ClientBranch, final?: SipResponse): void {
    branch.state = 'completed';
    clearTimeout(branch.timer);
    branch.timer = undefined;
    const { server } = branch;
    if (server.finalStatus !== undefined) branch.request = hopHeadersOnly(branch.request);
    else if (final) server.finals.push(final);
  }

  #maybeFinish(server: ServerTransaction): void {
    if (server.finalStatus !== undefined || server.branches.some((b) => b.state !== 'completed')) return;
    let response = bestResponse(server.finals) ?? createResponse(server.request, 408);
    if (server.cancelled) response = createResponse(server.request, 487);
    // RFC 3261 §16.7 step 6: a 503 from downstream would make the caller try elsewhere for the wrong reason.
    if (response.status === 503) response = { ...response, status: 500, reason: 'Server Internal Error' };
    this.#respond(server, response);
    this.#finished(server, response.status);
  }

  /** Sends a response of the server transaction, remembered for retransmissions of the request. */
  #respond(server: ServerTransaction, response: SipResponse): void {
    const text = serializeSipMessage(response);
    server.lastResponse = text;
    server.flow.send(text);
  }

  #finished(server: ServerTransaction, status: number): void {
    server.finalStatus = status;
    const pending = (this.#pendingByFlow.get(server.flow.id) ?? 1) - 1;
    if (pending > 0) this.#pendingByFlow.set(server.flow.id, pending);
    else this.#pendingByFlow.delete(server.flow.id);
    if (server.request.method === 'INVITE' && isInitial(server.request)) {
      this.deps.events.callCompleted(status, server.callId, Date.now() - server.startedAt);
      this.#tell(status < 300 ? 'answered' : 'rejected', server.request, { status });
    }
    // Only an INVITE transaction lingers (INVITE_LINGER_MS): any other is forgotten at once, and
    // reducing its requests first would copy their headers for nothing (a BYE's, on every call).
    if (server.request.method !== 'INVITE') return this.#forget(server);
    // What lingers only absorbs retransmissions, ACKs and late CANCELs: keep no bodies for it.
    server.request = hopHeadersOnly(server.request);
    server.finals = [];
    for (const branch of server.branches) {
      if (branch.state === 'completed') branch.request = hopHeadersOnly(branch.request);
    }
    this.#lingering.set(server, Date.now() + INVITE_LINGER_MS);
    if (status < 300) this.#awaitingAck.set(ackKey(server.flow.id, server.request), server);
    if (this.#lingering.size > MAX_LINGERING) this.#forgetOldestLingering();
    if (!this.#lingerSweep) {
      this.#lingerSweep = setInterval(() => this.#forgetLingered(), LINGER_SWEEP_MS);
      this.#lingerSweep.unref();
    }
  }

  /**
   * Whether a finished INVITE transaction has nothing left to linger for before its 32 s are up:
   * kept that long, every call's transaction was copied by the collector into the old generation
   * and marked there again and again (issue 28). Its connection is a WebSocket, a
   * reliable transport: a client does not retransmit an INVITE there (RFC 3261 §17.1.1.2), which
   * is why Timer I is 0 on one (§17.2.1). Once the caller's ACK has come and every branch has
   * heard the callee's own final answer (or lost its connection), nothing else lingering is for
   * (RFC 6026 §7.1) can happen either: no branch can bring a new 2xx, and a 2xx retransmission
   * that crossed the ACK need not reach a caller that has acknowledged it. A late CANCEL then gets
   * 481 rather than 200: it has nothing to cancel either way.
   */
  #settled(server: ServerTransaction): boolean {
    // Only a final answer is acknowledged: no check of finalStatus needed.
    return server.acknowledged && server.branches.every((branch) => branch.heard);
  }

  #forgetIfSettled(server: ServerTransaction): void {
    if (this.#settled(server) && this.#servers.get(server.key) === server) this.#forget(server);
  }

  /** The sweep: forgets the lingering transactions whose time is up (the oldest come first). */
  #forgetLingered(): void {
    const now = Date.now();
    for (const [server, until] of this.#lingering) {
      if (until > now) break;
      this.#forget(server);
    }
    if (this.#lingering.size === 0) {
      clearInterval(this.#lingerSweep);
      this.#lingerSweep = undefined;
    }
  }

  /** A branch's response as it goes back: without our Via, its SDP under the codec policy. */
  #policed(branch: ClientBranch, response: SipResponse): SipResponse {
    return this.deps.media.response(
      withoutFirstHeader(response, 'Via'),
      branch.request,
      branch.server.offered,
    );
  }

  #forgetOldestLingering(): void {
    let forgotten = 0;
    for (const server of this.#lingering.keys()) {
      if (forgotten++ === LINGER_EVICTION_BATCH) return;
      this.#forget(server);
    }
  }

  #forget(server: ServerTransaction): void {
    for (const branch of server.branches) {
      clearTimeout(branch.timer);
      this.#branches.delete(branch.id);
    }
    this.#servers.delete(server.key);
    this.#lingering.delete(server);
    // Still awaiting its ACK while a branch keeps its 2xx (acknowledged() lets them go).
    if (server.branches.some((branch) => branch.answer))
      this.#awaitingAck.delete(ackKey(server.flow.id, server.request));
    this.deps.events.transactionsChanged(this.#servers.size);
  }

  #cancelBranches(server: ServerTransaction): void {
    for (const branch of server.branches) {
      if (branch.state === 'proceeding' && !branch.timedOut) this.#sendCancel(branch);
      else if (branch.state === 'trying') branch.cancelWanted = true;
    }
  }

  #sendCancel(branch: ClientBranch): void {
    branch.cancelWanted = false;
    this.#send(branch.flow, hopRequest(branch, 'CANCEL', header(branch.request, 'To') as string));
  }

  #sendAck(branch: ClientBranch, response: SipResponse): void {
    this.#send(branch.flow, hopRequest(branch, 'ACK', header(response, 'To') as string));
  }

  #tell(
    type: 'invite' | 'ringing' | 'answered' | 'rejected',
    request: SipRequest,
    details: { status?: number; toTag?: string } = {},
  ): void {
    this.deps.events.callEvent(callEvent(type, request, details));
  }

  #send(flow: Flow, message: SipRequest | SipResponse): void {
    flow.send(serializeSipMessage(message));
  }
}

/** What ties the ACK of a 2xx to its INVITE: the caller's connection, the Call-ID and the CSeq number. */
function ackKey(flowId: string, request: SipRequest): string {
  const cseq = Number.parseInt(header(request, 'CSeq') ?? '', 10);
  return `${flowId}|${header(request, 'Call-ID') ?? ''}|${cseq}`;
}
