import { answerAsDtlsServer } from '@ringway/sdp';
import type { Session, SessionDescriptionHandlerFactory } from 'sip.js';
import { Web } from 'sip.js';
import { type StunProbe, type StunVerdict, stunServers } from './stun-probe.js';

/** What a call wants to hear from its peer connection. */
export interface MediaHooks {
  offerReady?(): void;
  /**
   * The other side's SDP was applied (undefined), or could not be (the error: SIP.js then ends the
   * call with a BYE or 488 of its own).
   */
  remoteDescription?(problem: Error | undefined): void;
  iceConnectionState?(state: RTCIceConnectionState): void;
  connectionState?(state: RTCPeerConnectionState): void;
}

export interface FastIceOptions {
  iceServers: RTCIceServer[];
  /** Send the SDP this long after the last candidate when the expected types have not all come. Default 50 ms. */
  idleMs?: number;
  /**
   * Send the SDP this long after the last candidate when only host candidates are to come (no
   * ICE servers, or a STUN server that did not answer the warm-up): the other interfaces' host
   * candidates come in the same burst. Default 10 ms.
   */
  hostQuietMs?: number;
  /** What the phone's warm-up learnt of its STUN servers (stun-probe.ts); without it, STUN is waited for. */
  stun?: StunProbe;
  /** Never wait longer than this for candidates. Default 1000 ms. */
  capMs?: number;
  /** Supplies local media (the phone keeps a warm microphone). */
  mediaStreamFactory: Web.MediaStreamFactory;
  /** The hooks of the call a session belongs to. */
  hooksFor(session: Session): MediaHooks | undefined;
}

/** Candidate types worth waiting for, given the configured servers: srflx for STUN, relay for TURN. */
export function expectedCandidateTypes(iceServers: readonly RTCIceServer[]): Set<RTCIceCandidateType> {
  const expected = new Set<RTCIceCandidateType>(['host']);
  for (const server of iceServers) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      expected.add(/^turns?:/i.test(url) ? 'relay' : 'srflx');
    }
  }
  return expected;
}

/** Where a call's candidate gathering stands, for `offerWaitMs`. */
export interface Gathering {
  /** Candidate types the ICE servers can give (expectedCandidateTypes). */
  expected: ReadonlySet<string>;
  /** Types seen so far. */
  seen: ReadonlySet<string>;
  /** What the warm-up learnt of the STUN servers. */
  stun: StunVerdict;
  /** ms since the last candidate that counts (any but a TCP host one); undefined before the first. */
  quietMs: number | undefined;
}

/**
 * How much longer an offer waits for candidates, ms: 0 sends it now, Infinity waits for the
 * next candidate (SIP.js's `iceGatheringTimeout` caps the whole wait).
 * 1. Every server type expected is in (srflx follows the host candidates): now.
 * 2. Only host candidates are to come — no ICE servers, or STUN silent at the warm-up: `hostQuietMs`
 *    after the last one. Chromium gathers the UDP host candidates of every interface in one burst
 *    (within 0.5 ms here) and TCP ones over 100 ms later (its next gathering phase): those are
 *    not waited for (active TCP candidates, port 9, cannot receive).
 * 3. Otherwise `idleMs` after the last candidate, or sooner if STUN's time to answer the warm-up
 *    runs out first while only srflx is missing.
 */
export function offerWaitMs(gathering: Gathering, timing: { idleMs: number; hostQuietMs: number }): number {
  const { expected, seen, stun, quietMs } = gathering;
  if (quietMs === undefined) return Number.POSITIVE_INFINITY;
  const serverTypes = [...expected].filter((type) => type !== 'host');
  if (serverTypes.length > 0 && serverTypes.every((type) => seen.has(type))) return 0;
  const missing = serverTypes.filter(
    (type) => !seen.has(type) && !(type === 'srflx' && stun.kind === 'silent'),
  );
  const hostQuiet = Math.max(0, timing.hostQuietMs - quietMs);
  if (missing.length === 0) return hostQuiet;
  const idle = Math.max(0, timing.idleMs - quietMs);
  if (stun.kind === 'pending' && missing.length === 1 && missing[0] === 'srflx')
    return Math.min(idle, Math.max(hostQuiet, stun.msLeft));
  return idle;
}

/**
 * A SIP.js SessionDescriptionHandler factory that does not wait for ICE gathering to finish
 * (SIP.js waits up to 5 s by default, forever with a dead STUN server in JsSIP): the SDP goes as
 * soon as the candidates worth waiting for are in (offerWaitMs), and never later than `capMs`.
 * It uses SIP.js's own hook for this, `iceGatheringComplete()`.
 */
export function fastIceSessionDescriptionHandlerFactory(
  options: FastIceOptions,
): SessionDescriptionHandlerFactory {
  return (session) => new FastIceSessionDescriptionHandler(session, options, () => options.hooksFor(session));
}

class FastIceSessionDescriptionHandler extends Web.SessionDescriptionHandler {
  #seen = new Set<string>();
  #lastAt: number | undefined;
  #enough = false;
  #wait: ReturnType<typeof setTimeout> | undefined;
  readonly #expected: ReadonlySet<string>;

  constructor(
    session: Session,
    private readonly options: FastIceOptions,
    private readonly hooks: () => MediaHooks | undefined,
  ) {
    super(session.userAgent.getLogger('sip.SessionDescriptionHandler'), options.mediaStreamFactory, {
      iceGatheringTimeout: options.capMs ?? 1000,
      peerConnectionConfiguration: {
        iceServers: options.iceServers,
        // 'balanced', not 'max-bundle': Chromium refuses an offer without a BUNDLE group under
        // max-bundle ("max-bundle configured but session description has no BUNDLE group"), and
        // that is every offer from a plain SIP phone or a PBX that does not bundle (Asterisk by
        // default, FreeSWITCH, desk phones, through rtpengine). Our offers still carry
        // a=group:BUNDLE and bundle with every peer that accepts it (browsers, Asterisk with
        // bundle=yes); an audio-only call has one m-line either way.
        bundlePolicy: 'balanced',
        rtcpMuxPolicy: 'require',
        // No iceCandidatePoolSize: with a pool, Chromium 156 here now and then gathered nothing
        // for an answer (offer ready only at the cap, and no media), and it saved no time.
      },
    });
    this.#expected = expectedCandidateTypes(options.iceServers);
    this.peerConnectionDelegate = {
      onicecandidate: (event) => {
        const candidate = event.candidate;
        if (!candidate) return this.#complete();
        this.#seen.add(candidate.type ?? 'host');
        if (candidate.type !== 'host' || candidate.protocol !== 'tcp') this.#lastAt = performance.now();
        this.#decide();
      },
      oniceconnectionstatechange: () =>
        this.hooks()?.iceConnectionState?.(this.peerConnection?.iceConnectionState ?? 'new'),
      onconnectionstatechange: () =>
        this.hooks()?.connectionState?.(this.peerConnection?.connectionState ?? 'new'),
    };
  }

  #decide(): void {
    clearTimeout(this.#wait);
    const waitMs = offerWaitMs(
      {
        expected: this.#expected,
        seen: this.#seen,
        stun: this.options.stun?.verdict(this.options.iceServers) ?? { kind: 'unknown' },
        quietMs: this.#lastAt === undefined ? undefined : performance.now() - this.#lastAt,
      },
      { idleMs: this.options.idleMs ?? 50, hostQuietMs: this.options.hostQuietMs ?? 10 },
    );
    if (waitMs <= 0) this.#complete();
    else if (Number.isFinite(waitMs)) this.#wait = setTimeout(() => this.#decide(), waitMs);
  }

  /**
   * Undoes an offer that was refused (SIP.js's Session calls this after a rejected re-INVITE or
   * in glare, but its web handler does not implement it, leaving the connection in
   * "have-local-offer", where every later offer fails).
   */
  async rollbackDescription(): Promise<void> {
    const pc = this.peerConnection;
    if (pc && pc.signalingState !== 'stable') await pc.setLocalDescription({ type: 'rollback' });
  }

  /** Tells the call why, when the other side's SDP cannot be used: SIP.js only ends the session. */
  override async setDescription(
    sdp: string,
    options?: Web.SessionDescriptionHandlerOptions,
    modifiers?: Array<(description: RTCSessionDescriptionInit) => Promise<RTCSessionDescriptionInit>>,
  ): Promise<void> {
    try {
      await super.setDescription(sdp, options, modifiers);
    } catch (error) {
      this.hooks()?.remoteDescription?.(error as Error);
      throw error;
    }
    this.hooks()?.remoteDescription?.(undefined);
  }

  /**
   * Our answers take the DTLS server's role when the offer leaves it to us (answerAsDtlsServer
   * says why: an offerer that drops a hello sent before it has the answer, Firefox ESR's).
   */
  protected override setLocalSessionDescription(description: RTCSessionDescriptionInit): Promise<void> {
    const pc = this.peerConnection;
    const offer = pc?.remoteDescription;
    if (description.type !== 'answer' || description.sdp === undefined || offer?.type !== 'offer')
      return super.setLocalSessionDescription(description);
    const sdp = answerAsDtlsServer(description.sdp, offer.sdp, pc?.currentLocalDescription?.sdp);
    return super.setLocalSessionDescription({ ...description, sdp });
  }

  /** Candidates may all be in before SIP.js starts waiting for them: then the wait ends at once. */
  protected override waitForIceGatheringComplete(restart = false, timeout = 0): Promise<void> {
    if (restart) {
      this.#seen = new Set();
      this.#lastAt = undefined;
      this.#enough = false;
    }
    const waiting = super.waitForIceGatheringComplete(restart, timeout);
    if (this.#enough) this.iceGatheringComplete();
    return waiting.then(() => this.hooks()?.offerReady?.());
  }

  #complete(): void {
    this.#enough = true;
    clearTimeout(this.#wait);
    this.iceGatheringComplete();
  }
}

/**
 * Chromium sets up its WebRTC machinery on a page's first peer connection (its network threads,
 * the list of interfaces, the first ports): time the first call of a freshly opened page would
 * otherwise spend before its offer is ready. A throwaway connection gathers its host candidates
 * while the phone registers. With STUN servers configured it gathers with them (TURN servers are
 * left out: they would allocate a relay), which sends each a binding request, as any call would,
 * and tells `stun` whether they answer; it then stays open up to `listenMs` for a late answer.
 * Without STUN servers it has none (nothing is sent anywhere) and closes at its first candidate.
 */
export async function warmUpPeerConnections(
  iceServers: readonly RTCIceServer[] = [],
  stun?: StunProbe,
  listenMs = 3000,
): Promise<void> {
  const servers = stun ? stunServers(iceServers) : [];
  stun?.start(servers);
  const pc = new RTCPeerConnection({ iceServers: servers });
  try {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const gathered = new Promise<void>((resolve) => {
      pc.onicecandidate = ({ candidate }) => {
        if (!candidate) return resolve();
        if (candidate.type === 'host' && candidate.protocol === 'udp') stun?.hostGathered();
        if (candidate.type === 'srflx') stun?.answered();
        if (servers.length === 0 || candidate.type === 'srflx') resolve();
      };
      setTimeout(resolve, servers.length === 0 ? 500 : listenMs);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered;
  } finally {
    pc.close();
  }
}
