import type { Session, SessionDescriptionHandlerFactory } from 'sip.js';
import { Web } from 'sip.js';

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

/**
 * A SIP.js SessionDescriptionHandler factory that does not wait for ICE gathering to finish
 * (SIP.js waits up to 5 s by default, forever with a dead STUN server in JsSIP): the SDP goes as
 * soon as a candidate of every type the ICE servers can give is in, or `idleMs` after the last
 * candidate, and never later than `capMs`. It uses SIP.js's own hook for this, `iceGatheringComplete()`.
 */
export function fastIceSessionDescriptionHandlerFactory(
  options: FastIceOptions,
): SessionDescriptionHandlerFactory {
  const expected = expectedCandidateTypes(options.iceServers);
  return (session) =>
    new FastIceSessionDescriptionHandler(session, options, expected, () => options.hooksFor(session));
}

class FastIceSessionDescriptionHandler extends Web.SessionDescriptionHandler {
  #seen = new Set<string>();
  #enough = false;
  #idle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    session: Session,
    options: FastIceOptions,
    private readonly expected: ReadonlySet<string>,
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
    const idleMs = options.idleMs ?? 50;
    this.peerConnectionDelegate = {
      onicecandidate: (event) => {
        if (!event.candidate) return this.#complete();
        this.#seen.add(event.candidate.type ?? 'host');
        clearTimeout(this.#idle);
        // With STUN or TURN configured, their candidates come after the host ones: once every
        // expected type is in, go. With host candidates only, wait for a short quiet spell, as
        // the first one may be a TCP candidate that cannot receive (port 9).
        const serverTypes = [...this.expected].filter((type) => type !== 'host');
        if (serverTypes.length > 0 && serverTypes.every((type) => this.#seen.has(type))) this.#complete();
        else this.#idle = setTimeout(() => this.#complete(), idleMs);
      },
      oniceconnectionstatechange: () =>
        this.hooks()?.iceConnectionState?.(this.peerConnection?.iceConnectionState ?? 'new'),
      onconnectionstatechange: () =>
        this.hooks()?.connectionState?.(this.peerConnection?.connectionState ?? 'new'),
    };
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

  /** Candidates may all be in before SIP.js starts waiting for them: then the wait ends at once. */
  protected override waitForIceGatheringComplete(restart = false, timeout = 0): Promise<void> {
    if (restart) {
      this.#seen = new Set();
      this.#enough = false;
    }
    const waiting = super.waitForIceGatheringComplete(restart, timeout);
    if (this.#enough) this.iceGatheringComplete();
    return waiting.then(() => this.hooks()?.offerReady?.());
  }

  #complete(): void {
    this.#enough = true;
    clearTimeout(this.#idle);
    this.iceGatheringComplete();
  }
}

/**
 * Chromium sets up its WebRTC machinery on a page's first peer connection (its network threads,
 * the list of interfaces, the first ports): time the first call of a freshly opened page would
 * otherwise spend before its offer is ready. A throwaway connection, with no ICE servers (so
 * nothing is sent anywhere), gathers its host candidates and closes while the phone registers.
 */
export async function warmUpPeerConnections(settleMs = 500): Promise<void> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  try {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const gathered = new Promise<void>((resolve) => {
      pc.onicecandidate = () => resolve();
      setTimeout(resolve, settleMs);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered;
  } finally {
    pc.close();
  }
}
