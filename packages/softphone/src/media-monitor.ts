import { type QualitySample, sampleQuality } from './call-quality.js';
import { CallState } from './call-state.js';
import { Emitter } from './emitter.js';
import { type MediaWarning, type MediaWarningKind, OneWayAudioDetector } from './one-way-audio.js';
import type { Waterfall } from './waterfall.js';

/** What the media monitor of one call is given by it; it knows nothing else of the call. */
export interface MonitoredCall {
  /** Where 'firstRtp' is marked. */
  readonly waterfall: Waterfall;
  /** The call's peer connection, once SIP.js has made it. */
  peerConnection(): RTCPeerConnection | undefined;
  state(): CallState;
  /** Whether the user muted the call's microphone: then no input is expected. */
  muted(): boolean;
}

/** How often the first inbound RTP is looked for, and for how long, ms. */
const FIRST_RTP_POLL_MS = 20;
const FIRST_RTP_GIVE_UP_MS = 10_000;
/** One quality sample a second, and an hour of them at most. */
const SAMPLE_EVERY_MS = 1000;
const MAX_SAMPLES = 3600;

/**
 * What one call's media does, from getStats(): the first RTP packet (for the waterfall),
 * one-second quality samples (call-quality.ts), one-way audio (one-way-audio.ts), and whether
 * the other side holds the call.
 */
export class MediaMonitor {
  readonly quality = new Emitter<QualitySample>();
  readonly remoteHoldChange = new Emitter<boolean>();
  readonly mediaWarning = new Emitter<{ started: MediaWarning[]; cleared: MediaWarningKind[] }>();
  readonly warningsSeen = new Set<MediaWarningKind>();
  readonly samples: QualitySample[] = [];
  readonly #call: MonitoredCall;
  readonly #oneWayAudio = new OneWayAudioDetector();
  #microphoneMeasured: boolean | undefined;
  #heldByRemote = false;
  #qualityTimer: ReturnType<typeof setInterval> | undefined;
  #firstRtpTimer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  constructor(call: MonitoredCall) {
    this.#call = call;
  }

  get heldByRemote(): boolean {
    return this.#heldByRemote;
  }

  get microphoneMeasured(): boolean | undefined {
    return this.#microphoneMeasured;
  }

  get warnings(): MediaWarning[] {
    return this.#oneWayAudio.active;
  }

  /** The media connected: look for its first packet. */
  mediaConnected(): void {
    this.#watchFirstRtp();
  }

  /** The call is established: sample its quality every second until it ends. */
  established(): void {
    if (this.#stopped) return;
    this.#qualityTimer ??= setInterval(() => void this.#sample(), SAMPLE_EVERY_MS);
  }

  /**
   * The other side's re-INVITE was answered: it may have put the call on hold, offering sendonly
   * or inactive (RFC 3264 §8.4), so that from here audio can only come in, or not at all, while
   * we did not put it on hold ourselves; or taken it off.
   */
  remoteOfferAnswered(): void {
    const direction = this.#audioDirection();
    const held =
      this.#call.state() !== CallState.Held && (direction === 'recvonly' || direction === 'inactive');
    if (held === this.#heldByRemote) return;
    this.#heldByRemote = held;
    this.remoteHoldChange.emit(held);
  }

  /** The call ended: every timer goes. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#qualityTimer);
    this.#stopFirstRtp();
  }

  /** Polls inbound RTP until the first packet, for the waterfall. */
  #watchFirstRtp(): void {
    if (this.#stopped || this.#firstRtpTimer || this.#call.waterfall.get('firstRtp') !== undefined) return;
    const started = Date.now();
    this.#firstRtpTimer = setInterval(async () => {
      const pc = this.#call.peerConnection();
      if (!pc || Date.now() - started > FIRST_RTP_GIVE_UP_MS) return this.#stopFirstRtp();
      let received = 0;
      (await pc.getStats()).forEach((report) => {
        if (report.type === 'inbound-rtp') received += report.packetsReceived ?? 0;
      });
      if (received > 0) {
        this.#call.waterfall.mark('firstRtp');
        this.#stopFirstRtp();
      }
    }, FIRST_RTP_POLL_MS);
  }

  #stopFirstRtp(): void {
    clearInterval(this.#firstRtpTimer);
    this.#firstRtpTimer = undefined;
  }

  async #sample(): Promise<void> {
    const pc = this.#call.peerConnection();
    if (!pc) return;
    const previous = this.samples[this.samples.length - 1];
    const sample = await sampleQuality(pc, previous);
    this.samples.push(sample);
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    this.quality.emit(sample);
    this.#watchOneWayAudio(sample);
  }

  /** The negotiated direction of the call's audio, from our side. */
  #audioDirection(): RTCRtpTransceiverDirection | undefined {
    const audio = this.#call
      .peerConnection()
      ?.getTransceivers()
      .find((t) => t.receiver.track.kind === 'audio');
    return audio?.currentDirection ?? undefined;
  }

  #watchOneWayAudio(sample: QualitySample): void {
    // Audio is expected both ways only while both sides have the call off hold.
    const both = this.#call.state() === CallState.Active && this.#audioDirection() === 'sendrecv';
    const sending = both && !this.#call.muted();
    // Once measured, measured: the first sample may come before the browser reports its source.
    if (sending)
      this.#microphoneMeasured = this.#microphoneMeasured === true || sample.inputEnergy !== undefined;
    const change = this.#oneWayAudio.observe({
      at: sample.at,
      sending,
      receiving: both,
      packetsSent: sample.packetsSent,
      packetsReceived: sample.packetsReceived,
      inputEnergy: sample.inputEnergy,
      outputEnergy: sample.outputEnergy,
    });
    if (change.started.length === 0 && change.cleared.length === 0) return;
    for (const warning of change.started) this.warningsSeen.add(warning.kind);
    this.mediaWarning.emit(change);
  }
}
