import { type CapturedMessage, type MessageHead, partyOf, readHead } from './captured-message.js';
import { maskSecrets } from './secret-masking.js';

/** Where a captured call stands, from the messages seen (either leg). */
export type CallOutcome = 'calling' | 'ringing' | 'answered' | 'rejected' | 'cancelled';

/** A recent call: who, when, how it went, and its messages on every leg, oldest first. */
export interface CapturedCall {
  callId: string;
  /** When its initial INVITE was first seen, ms since the epoch. */
  startedAt: number;
  /** user@host of From and To of the initial INVITE. */
  from: string | undefined;
  to: string | undefined;
  outcome: CallOutcome;
  /** The final answer to the initial INVITE: a 2xx if any leg saw one, else the last one seen. */
  status: number | undefined;
  /** INVITE to its first 18x, and INVITE to its final answer, ms. */
  ringingMs: number | undefined;
  setupMs: number | undefined;
  /** When a BYE (or the CANCEL) was seen. */
  endedAt: number | undefined;
  /** MOS of each party's quality report (calls/quality-reports.ts), as they arrive. */
  mos: number[];
  messages: CapturedMessage[];
  bytes: number;
  /** Messages were left out: the call alone reached its share of the ring. */
  truncated: boolean;
}

export interface CallRingOptions {
  /** Calls kept at most; the oldest goes first. */
  maxCalls: number;
  /** Bytes of message text kept at most, over all calls; the oldest calls go first. */
  maxBytes: number;
}

/** Messages of one call kept at most (a call re-INVITEd for hours must not fill the ring alone). */
const MAX_MESSAGES_PER_CALL = 1000;
/** How a request that may begin a call starts (the method read as readHead reads it). */
const INVITE_LINE = /^INVITE /i;
/** A Call-ID longer than this is no call anybody's phone made: not kept (RFC 3261 sets no bound). */
const MAX_CALL_ID_LENGTH = 256;

/** A call in the ring: its messages are followed (outcome, timings) when it is read, from `followed` on. */
interface KeptCall extends CapturedCall {
  followed: number;
}

/**
 * The SIP messages of recent calls, by Call-ID, bounded by a count of calls and by bytes (the
 * oldest call is forgotten first). A call begins with an initial INVITE (no To tag) on any leg;
 * messages of Call-IDs that are no call (REGISTER, SUBSCRIBE, OPTIONS) are not kept.
 *
 * A message is kept as it comes, unread but for its Call-ID (and a call's first, for its parties);
 * how a call went is read from its messages when the call is read. The capture sees every message of
 * every call and operators read a few: reading each one's head as it passed, and following its
 * call, cost the gateway a tenth of its CPU per call (issue 28).
 */
export class CallRing {
  /** Insertion order is age order. */
  readonly #calls = new Map<string, KeptCall>();
  #bytes = 0;

  constructor(private readonly options: CallRingOptions) {}

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#calls.size;
  }

  /**
   * Keeps `message`, whose Call-ID is `callId`, under its call (beginning one for an initial
   * INVITE); whether it was kept.
   */
  record(message: CapturedMessage, callId: string): boolean {
    if (callId.length > MAX_CALL_ID_LENGTH || !this.keepsCalls) return false;
    let call = this.#calls.get(callId);
    if (!call) {
      // Messages of no call (REGISTER, OPTIONS, NOTIFY) come often: only an INVITE is read whole.
      if (!INVITE_LINE.test(message.text)) return false;
      const head = readHead(message.text);
      if (head?.method !== 'INVITE' || head.toTagged) return false;
      call = newCall(callId, message.at, head);
      this.#calls.set(callId, call);
      while (this.#calls.size > this.options.maxCalls) this.#evictOldest();
    }
    const size = Buffer.byteLength(message.text);
    // One call may take half of the ring at most, so that one long call cannot empty it of the rest.
    if (call.messages.length >= MAX_MESSAGES_PER_CALL || call.bytes + size > this.options.maxBytes / 2) {
      call.truncated = true;
      // Not kept, but how the call went may be in it (its BYE): followed now, after those kept.
      followKept(call);
      follow(call, message);
      return false;
    }
    call.messages.push(message);
    call.bytes += size;
    this.#bytes += size;
    while (this.#bytes > this.options.maxBytes && this.#calls.size > 1) this.#evictOldest(call);
    return true;
  }

  /** A party's MOS (from its quality report), when the call is still in the ring. */
  qualityReported(callId: string, mos: number): void {
    const call = this.#calls.get(callId);
    if (call && call.mos.length < 2) call.mos.push(mos);
  }

  /** Whether the ring keeps any call (maxCalls above 0): else nothing need be read to ask it. */
  get keepsCalls(): boolean {
    return this.options.maxCalls > 0;
  }

  /**
   * A call as operators see it: its messages with their secrets masked. The ring keeps them as
   * they crossed the wire and masks them here, on the way out, rather than each as it is captured:
   * the capture sees every message of every call (a tenth of the gateway's CPU per call went to
   * masking what nobody would read), operators read a few calls.
   */
  get(callId: string): CapturedCall | undefined {
    const call = this.#calls.get(callId);
    return (
      call && { ...told(call), messages: call.messages.map((m) => ({ ...m, text: maskSecrets(m.text) })) }
    );
  }

  /** Every call kept, newest first. */
  calls(): CapturedCall[] {
    return [...this.#calls.values()].reverse().map(told);
  }

  #evictOldest(keep?: CapturedCall): void {
    for (const [callId, call] of this.#calls) {
      if (call === keep) continue;
      this.#calls.delete(callId);
      this.#bytes -= call.bytes;
      return;
    }
  }
}

/** A kept call as the ring tells it: its messages followed up to the last. */
function told(call: KeptCall): CapturedCall {
  followKept(call);
  const { followed: _, ...shown } = call;
  return shown;
}

/** Follows the call's kept messages not followed yet, in order. */
function followKept(call: KeptCall): void {
  for (; call.followed < call.messages.length; call.followed++) {
    follow(call, call.messages[call.followed] as CapturedMessage);
  }
}

function newCall(callId: string, at: number, head: MessageHead): KeptCall {
  return {
    callId,
    startedAt: at,
    from: partyOf(head.from),
    to: partyOf(head.to),
    outcome: 'calling',
    status: undefined,
    ringingMs: undefined,
    setupMs: undefined,
    endedAt: undefined,
    mos: [],
    messages: [],
    bytes: 0,
    truncated: false,
    followed: 0,
  };
}

/** The call's outcome and timings after one more of its messages (its head read now). */
function follow(call: CapturedCall, message: CapturedMessage): void {
  const head = readHead(message.text);
  if (!head) return;
  const { at } = message;
  const since = Math.round(at - call.startedAt);
  if (head.method === 'BYE' || (head.method === 'CANCEL' && call.outcome !== 'answered')) {
    call.endedAt ??= at;
    if (head.method === 'CANCEL') call.outcome = 'cancelled';
    return;
  }
  // Answers to the initial INVITE only (a re-INVITE's have a To tag on the request, not told
  // apart here by CSeq: the first INVITE's answers come first, and a 2xx settles the outcome).
  const status = head.status;
  if (status === undefined || head.cseqMethod !== 'INVITE' || call.outcome === 'answered') return;
  // A challenge (RFC 3261 §22.2, §22.3) is answered by the same INVITE again, with credentials.
  if (status === 401 || status === 407) return;
  if (status >= 180 && status < 200 && call.outcome === 'calling') {
    call.outcome = 'ringing';
    call.ringingMs ??= since;
  } else if (status >= 200 && status < 300) {
    call.outcome = 'answered';
    call.status = status;
    call.setupMs = since;
    // A fork's loser may have answered first (486 from one phone, 200 from the other).
    call.endedAt = undefined;
  } else if (status >= 300) {
    if (call.outcome !== 'cancelled') call.outcome = 'rejected';
    call.status = status;
    call.setupMs ??= since;
    call.endedAt ??= at;
  }
}
