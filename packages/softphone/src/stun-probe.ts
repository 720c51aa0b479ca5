/**
 * Whether the phone's STUN servers answer, learnt by the peer connection the phone gathers with
 * when it starts (warmUpPeerConnections in fast-ice.ts), before anyone dials.
 *
 * Why: an offer waits for the server-reflexive candidate a STUN server gives, since a caller
 * behind a NAT that filters by address may be unreachable without it. A server that never
 * answers (a wrong address, UDP blocked by a firewall, a STUN port where nothing listens) makes
 * every offer wait until it gives up on it — 50 ms of quiet here, SIP.js's 5 s by default — and
 * the browser says nothing sooner (Chromium 156 fires no icecandidateerror within seconds for a
 * loopback port where nothing listens). A server that has not answered the warm-up's binding
 * request within `answerWithinMs` of its first host candidate counts as silent: calls offer
 * their host candidates without waiting for it. It counts as answering again as soon as it does.
 */
export type StunVerdict =
  /** No STUN server configured, or the warm-up has not gathered yet. */
  | { kind: 'unknown' }
  /** The warm-up gathered its host candidates; STUN has `msLeft` more to answer. */
  | { kind: 'pending'; msLeft: number }
  | { kind: 'answers' }
  | { kind: 'silent' };

/** How long a STUN server has to answer the warm-up, from its first host candidate, by default, ms. */
export const DEFAULT_STUN_ANSWER_MS = 100;

/** The STUN URLs of a set of ICE servers (TURN servers are not asked: that would allocate a relay). */
export function stunServers(iceServers: readonly RTCIceServer[]): RTCIceServer[] {
  return iceServers.flatMap((server) => {
    const urls = (Array.isArray(server.urls) ? server.urls : [server.urls]).filter((url) =>
      /^stuns?:/i.test(url),
    );
    return urls.length > 0 ? [{ urls }] : [];
  });
}

export class StunProbe {
  readonly #answerWithinMs: number;
  readonly #now: () => number;
  /** The STUN URLs the verdict is about: the phone's ICE servers may change with its credentials. */
  #servers = '';
  #deadline: number | undefined;
  #answered = false;

  constructor(answerWithinMs = DEFAULT_STUN_ANSWER_MS, now: () => number = () => performance.now()) {
    if (!Number.isFinite(answerWithinMs) || answerWithinMs < 0)
      throw new TypeError(`stunAnswerMs is ${answerWithinMs}: expected ms ≥ 0`);
    this.#answerWithinMs = answerWithinMs;
    this.#now = now;
  }

  /** A new probe of these servers starts: what was known of others is forgotten. */
  start(iceServers: readonly RTCIceServer[]): void {
    this.#servers = JSON.stringify(stunServers(iceServers));
    this.#deadline = undefined;
    this.#answered = false;
  }

  /** The probe's first host candidate is in: from now STUN has `answerWithinMs`. */
  hostGathered(): void {
    this.#deadline ??= this.#now() + this.#answerWithinMs;
  }

  /** A server-reflexive candidate came: STUN answers. */
  answered(): void {
    this.#answered = true;
  }

  /** What is known of the STUN servers among `iceServers` (the ones a call gathers with). */
  verdict(iceServers: readonly RTCIceServer[]): StunVerdict {
    if (this.#deadline === undefined || JSON.stringify(stunServers(iceServers)) !== this.#servers)
      return { kind: 'unknown' };
    if (this.#answered) return { kind: 'answers' };
    const msLeft = this.#deadline - this.#now();
    return msLeft > 0 ? { kind: 'pending', msLeft } : { kind: 'silent' };
  }
}
