import { type CodecPolicy, codecPolicyModifier, resolvePolicy } from '@ringway/sdp';
import {
  type Invitation,
  Inviter,
  type Notification,
  type Session,
  SessionState,
  type UserAgent,
  type Web,
} from 'sip.js';
import { type QualitySample, summarizeQuality } from './call-quality.js';
import { CallRecovery, type Reconnect } from './call-recovery.js';
import { CALL_TRANSITIONS, CallState, isFinal } from './call-state.js';
import { Emitter } from './emitter.js';
import {
  type EndReason,
  localHangup,
  mediaRefused,
  networkLost,
  REJECTION_WORDS,
  remoteHangup,
  remoteRejection,
  timedOut,
} from './failure-reason.js';
import type { MediaHooks } from './fast-ice.js';
import { MediaMonitor } from './media-monitor.js';
import type { MediaWarning, MediaWarningKind } from './one-way-audio.js';
import { requestOutcome, SipRefusal } from './sip-refusal.js';
import { StateMachine } from './state-machine.js';
import { targetUri } from './target-uri.js';
import { Waterfall } from './waterfall.js';

/** How long a call may stay in each waiting state, ms. */
export interface CallTimeouts {
  /** Caller waiting for any answer to its INVITE. Default 32000. */
  dialing: number;
  /** Ringing, on either side. Default 60000. */
  ringing: number;
  /** Answered, waiting for ICE and DTLS. Default 10000. */
  connecting: number;
  /** Signalling lost in a live call, waiting to register again and restart the media. Default 30000. */
  reconnecting: number;
}

export const DEFAULT_CALL_TIMEOUTS: CallTimeouts = {
  dialing: 32_000,
  ringing: 60_000,
  connecting: 10_000,
  reconnecting: 30_000,
};

/** The per-call summary a softphone sends to the gateway when the call ends. */
export interface CallQualityReport {
  /** The SIP Call-ID. */
  callId: string;
  direction: 'outgoing' | 'incoming';
  durationMs: number;
  /** Dial to media connected (caller only). */
  setupMs: number | undefined;
  codec: string | undefined;
  rttMs: number | undefined;
  jitterMs: number | undefined;
  lossPercent: number;
  mos: number | undefined;
  reconnects: number;
  reconnectMs: number[];
  warnings: MediaWarningKind[];
  endReason: EndReason['kind'] | undefined;
}

export type DtmfMethod = 'rfc4733' | 'info';

const AUDIO_ONLY = { constraints: { audio: true, video: false } };
const AUDIO_VIDEO = { constraints: { audio: true, video: true } };

let nextCallId = 0;

/** Where the gateway hands each party its token for the call's quality report. */
const CALL_TOKEN_HEADER = 'Ringway-Call-Token';

/** The part of a SIP.js message the call token is read from. */
interface WithHeaders {
  getHeader(name: string): string | undefined;
}

/**
 * One call on a SIP.js session, with the call state machine of call-state.ts, a timeout on
 * every wait, an EndReason on every end and the set-up waterfall. What it hands to helpers of
 * its own: its media's watch (media-monitor.ts: first RTP, quality samples, one-way audio,
 * remote hold) and its recovery through a lost signalling connection (call-recovery.ts).
 */
export class Call implements MediaHooks {
  readonly id = `call-${++nextCallId}`;
  readonly stateChange = new Emitter<CallState>();
  /** The other side asked us to call someone (REFER, RFC 3515): the new call's Inviter, already accepted. */
  readonly referred = new Emitter<Inviter>();
  readonly waterfall = new Waterfall();
  readonly #media = new MediaMonitor({
    waterfall: this.waterfall,
    peerConnection: () => this.peerConnection,
    state: () => this.state,
    muted: () => this.muted,
  });
  /** One sample of the media a second, from the answer to the end. */
  readonly quality: Emitter<QualitySample> = this.#media.quality;
  /** The other side put the call on hold (true) or took it off (false), by re-INVITE. */
  readonly remoteHoldChange: Emitter<boolean> = this.#media.remoteHoldChange;
  /** One-way audio warnings as they start (`started`) and end (`cleared`); see one-way-audio.ts. */
  readonly mediaWarning: Emitter<{ started: MediaWarning[]; cleared: MediaWarningKind[] }> =
    this.#media.mediaWarning;
  /** Every kind of warning this call has had, for its quality report. */
  readonly warningsSeen: Set<MediaWarningKind> = this.#media.warningsSeen;
  /** The last hour of quality samples. */
  readonly samples: QualitySample[] = this.#media.samples;
  readonly startedAt = Date.now();
  /** When the call was first answered (for its timer); undefined until then. */
  answeredAt: number | undefined;
  endReason: EndReason | undefined;
  muted = false;
  /** DTMF digits received by SIP INFO (RFC 4733 digits arrive in the media and are played, not seen). */
  readonly dtmfReceived: string[] = [];
  /**
   * The token the gateway handed this side of the call (on the INVITE it passed us, or on the
   * 2xx to ours; every re-INVITE brings a fresh one): the credential of the quality report.
   */
  callToken: string | undefined;
  readonly #machine: StateMachine<CallState>;
  readonly #recovery: CallRecovery;
  #mediaConnected = false;
  /** Why the other side's last SDP could not be applied, if it could not. */
  #descriptionProblem: string | undefined;
  #established = false;

  private constructor(
    readonly session: Session,
    readonly direction: 'outgoing' | 'incoming',
    readonly remote: string,
    readonly video: boolean,
    timeouts: CallTimeouts,
  ) {
    this.#machine = new StateMachine<CallState>({
      initial: CallState.Idle,
      transitions: CALL_TRANSITIONS,
      timeouts: {
        dialing: timeouts.dialing,
        ringing: timeouts.ringing,
        connecting: timeouts.connecting,
        reconnecting: timeouts.reconnecting,
      },
      onTimeout: (state) => this.#timedOut(state),
    });
    this.#recovery = new CallRecovery({
      direction,
      waterfall: this.waterfall,
      state: () => this.state,
      mediaConnected: () => this.peerConnection?.connectionState === 'connected',
      restartIce: (hold) => this.#reinvite(hold, true),
      moveTo: (state) => this.#machine.transition(state),
      fail: (reason, hangUp) => {
        this.#end(CallState.Failed, reason);
        if (hangUp) void this.#terminateSession();
      },
    });
    this.#machine.stateChange.addListener((state) => {
      if (state === CallState.Active) this.answeredAt ??= Date.now();
      this.stateChange.emit(state);
    });
    session.stateChange.addListener((state) => this.#onSessionState(state));
    session.delegate = {
      ...session.delegate,
      // Transferee side of a transfer: accept the REFER and let the phone place the new call.
      onRefer: (referral) => {
        void referral.accept().then(() => {
          this.referred.emit(referral.makeInviter({ sessionDescriptionHandlerOptions: AUDIO_ONLY }));
        });
      },
      // The far side restarted the media for us (its ICE restart re-INVITE, answered by SIP.js).
      onInvite: (request, _response, statusCode) => {
        this.#noteCallToken(request);
        if (statusCode === 200) this.#recovery.mediaBack();
        this.#media.remoteOfferAnswered();
      },
      onInfo: (info) => {
        const signal = /Signal=\s*([0-9A-D#*])/i.exec(info.request.body)?.[1];
        if (signal) this.dtmfReceived.push(signal);
        void info.accept();
      },
    };
  }

  /** Starts an outgoing call: the INVITE goes out, the state machine says "dialing". */
  static dial(
    ua: UserAgent,
    target: string,
    options: {
      timeouts: CallTimeouts;
      video?: boolean;
      codecPolicy?: CodecPolicy;
      /** Header lines for the INVITE, e.g. a `Replaces` that picks up a colleague's call. */
      extraHeaders?: string[];
    },
  ): Call {
    const video = options.video ?? false;
    const inviter = new Inviter(ua, targetUri(ua, target), {
      sessionDescriptionHandlerOptions: video ? AUDIO_VIDEO : AUDIO_ONLY,
      ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
      ...(options.codecPolicy
        ? { sessionDescriptionHandlerModifiers: [codecPolicyModifier(resolvePolicy(options.codecPolicy))] }
        : {}),
    });
    return Call.fromInviter(inviter, { timeouts: options.timeouts, video });
  }

  /** Starts an outgoing call on an Inviter made elsewhere (e.g. by a REFER we accepted). */
  static fromInviter(inviter: Inviter, options: { timeouts: CallTimeouts; video?: boolean }): Call {
    const call = new Call(
      inviter,
      'outgoing',
      inviter.remoteIdentity.uri.toString(),
      options.video ?? false,
      options.timeouts,
    );
    call.#start(inviter);
    return call;
  }

  /** Wraps an incoming INVITE: the state machine says "ringing". */
  static incoming(invitation: Invitation, options: { timeouts: CallTimeouts }): Call {
    const video = /^m=video [1-9]/m.test(invitation.body ?? '');
    const call = new Call(
      invitation,
      'incoming',
      invitation.remoteIdentity.uri.toString(),
      video,
      options.timeouts,
    );
    call.#noteCallToken(invitation.request);
    call.#machine.transition(CallState.Ringing);
    return call;
  }

  #noteCallToken(message: WithHeaders): void {
    this.callToken = message.getHeader(CALL_TOKEN_HEADER) ?? this.callToken;
  }

  get state(): CallState {
    return this.#machine.state;
  }

  get peerConnection(): RTCPeerConnection | undefined {
    return (this.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined)
      ?.peerConnection;
  }

  /** What this side sends: the call's own clone of the microphone (and camera). */
  get localStream(): MediaStream | undefined {
    return (this.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined)
      ?.localMediaStream;
  }

  /** The remote party's media, to attach to an <audio> or <video> element. */
  get remoteStream(): MediaStream | undefined {
    return (this.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined)
      ?.remoteMediaStream;
  }

  async answer(): Promise<void> {
    if (this.direction !== 'incoming' || this.state !== CallState.Ringing) return;
    this.#machine.transition(CallState.Connecting);
    this.waterfall.mark('answered');
    try {
      await (this.session as Invitation).accept({
        sessionDescriptionHandlerOptions: this.video ? AUDIO_VIDEO : AUDIO_ONLY,
      });
    } catch (error) {
      // SIP.js answers 480/500 itself when local media or the SDP fails; say why here.
      this.#end(CallState.Failed, { kind: 'local', text: `could not answer: ${(error as Error).message}` });
      throw error;
    }
  }

  /** Declines an incoming call (603 by default, 486 for busy). */
  async decline(code: 486 | 603 = 603): Promise<void> {
    if (this.direction !== 'incoming' || this.state !== CallState.Ringing) return;
    this.#end(CallState.Ended, localHangup(code === 486 ? 'busy' : 'declined'));
    await (this.session as Invitation).reject({ statusCode: code });
  }

  /** Hangs up in any live state: CANCEL before the answer, BYE after, 480 to a ringing incoming call. */
  async hangup(): Promise<void> {
    if (isFinal(this.state)) return;
    const wasEstablished = this.#established;
    this.#end(CallState.Ended, localHangup());
    if (wasEstablished) await this.session.bye();
    else if (this.direction === 'outgoing') await (this.session as Inviter).cancel();
    else await (this.session as Invitation).reject({ statusCode: 480 });
  }

  /**
   * Puts the call on hold with a re-INVITE offering sendonly (RFC 3264 §8.4). Rejects with
   * SipRefusal when the other side refuses (491 in glare, 488): the call stays as it was and the
   * hold can be tried again.
   */
  async hold(): Promise<void> {
    if (this.state !== CallState.Active) return;
    await this.#reinvite(true);
    if (this.state === CallState.Active) this.#machine.transition(CallState.Held);
  }

  /** Takes the call off hold; rejects with SipRefusal as `hold()` does, the call still held. */
  async resume(): Promise<void> {
    if (this.state !== CallState.Held) return;
    await this.#reinvite(false);
    if (this.state === CallState.Held) this.#machine.transition(CallState.Active);
  }

  /**
   * A re-INVITE (hold, resume, ICE restart); rejects with the refusal's `status` when there is
   * one. A refused offer stays applied ("have-local-offer") unless rolled back, and every later
   * offer would fail before it is even sent: it is undone before the refusal is told.
   */
  async #reinvite(hold: boolean, iceRestart = false): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        const options = {
          ...(this.video ? AUDIO_VIDEO : AUDIO_ONLY),
          hold,
          ...(iceRestart ? { offerOptions: { iceRestart: true } } : {}),
        };
        this.session
          .invite({
            sessionDescriptionHandlerOptions: options as never,
            requestDelegate: {
              onAccept: (response) => {
                this.#noteCallToken(response.message);
                resolve();
              },
              onReject: (response) => {
                const { statusCode, reasonPhrase } = response.message;
                reject(new SipRefusal('re-INVITE', statusCode ?? 0, reasonPhrase ?? ''));
              },
            },
          })
          .catch(reject);
      });
    } catch (error) {
      await this.session.sessionDescriptionHandler?.rollbackDescription?.().catch(() => undefined);
      throw error;
    }
  }

  /** Mutes or unmutes the microphone of this call only. */
  mute(muted: boolean): void {
    this.muted = muted;
    for (const sender of this.peerConnection?.getSenders() ?? []) {
      if (sender.track?.kind === 'audio') sender.track.enabled = !muted;
    }
  }

  /** Sends one DTMF digit: in the media (RFC 4733, the default) or as SIP INFO. */
  async sendDtmf(digit: string, method: DtmfMethod = 'rfc4733'): Promise<void> {
    if (!/^[0-9A-D#*]$/i.test(digit)) throw new TypeError(`"${digit}" is not a DTMF digit`);
    if (method === 'rfc4733') {
      if (!this.session.sessionDescriptionHandler?.sendDtmf(digit, { duration: 100, interToneGap: 70 })) {
        throw new Error('this call cannot send RFC 4733 DTMF (no audio sender)');
      }
      return;
    }
    await requestOutcome('INFO', (requestDelegate) =>
      this.session.info({
        requestDelegate,
        requestOptions: {
          body: {
            contentDisposition: 'render',
            contentType: 'application/dtmf-relay',
            content: `Signal=${digit}\r\nDuration=100`,
          },
        },
      }),
    );
  }

  /**
   * Blind transfer: asks the other side to call `target` (REFER, RFC 3515). Resolves when the
   * other side accepted the REFER; rejects with SipRefusal when it refused it, or when its
   * report of the new call (NOTIFY sipfrag) says that call failed.
   */
  transfer(target: string): Promise<void> {
    return this.#refer(targetUri(this.session.userAgent, target));
  }

  /** Attended transfer: asks the other side to replace `consultation` with itself (REFER with Replaces, RFC 3891). */
  transferTo(consultation: Call): Promise<void> {
    return this.#refer(consultation.session);
  }

  #refer(to: Parameters<Session['refer']>[0]): Promise<void> {
    return new Promise((resolve, reject) => {
      requestOutcome('REFER', (requestDelegate) =>
        this.session.refer(to, {
          requestDelegate,
          onNotify: (notification) => {
            const failure = this.#transferProgress(notification);
            if (failure) reject(failure);
          },
        }),
      ).then(() => resolve(), reject);
    });
  }

  /**
   * RFC 3515 §2.4.5: the transferee reports its new call in NOTIFY sipfrag; on success we leave.
   * Returns the new call's refusal, if it was refused.
   */
  #transferProgress(notification: Notification): SipRefusal | undefined {
    void notification.accept();
    const [, code, phrase] = /^SIP\/2\.0 (\d{3}) ?([^\r\n]*)/.exec(notification.request.body) ?? [];
    const status = Number(code ?? 0);
    if (status >= 200 && status < 300) {
      this.#end(CallState.Ended, localHangup('transferred'));
      void this.session.bye().catch(() => undefined);
    }
    return status >= 300 ? new SipRefusal('transfer', status, phrase ?? '') : undefined;
  }

  /** The phone lost its signalling connection: a live call waits for it in "reconnecting". */
  connectionLost(): void {
    this.#recovery.connectionLost();
  }

  /**
   * The phone is registered again: restart the media with a re-INVITE offering an ICE restart
   * (see call-recovery.ts).
   */
  recover(): void {
    this.#recovery.recover();
  }

  /** Every loss of the signalling connection in this call, and how long its media took to come back. */
  get reconnects(): Reconnect[] {
    return this.#recovery.reconnects;
  }

  /**
   * The call's quality in one report, for the history and the gateway (POST
   * /api/calls/{callId}/quality): codec, duration, set-up time, RTT, jitter, loss, estimated MOS,
   * reconnections and one-way-audio warnings.
   */
  qualityReport(): CallQualityReport {
    const connected = this.waterfall.get('dtlsConnected');
    return {
      callId: (this.session as Inviter | Invitation).request.callId,
      direction: this.direction,
      durationMs: Date.now() - this.startedAt,
      // The callee's clock starts when the INVITE arrives, so only the caller measures set-up.
      setupMs: this.direction === 'outgoing' ? connected : undefined,
      ...summarizeQuality(this.samples),
      reconnects: this.reconnects.length,
      reconnectMs: this.reconnects.flatMap((r) => (r.tookMs === undefined ? [] : [r.tookMs])),
      warnings: [...this.warningsSeen],
      endReason: this.endReason?.kind,
    };
  }

  /** A compact summary for the history. */
  summary() {
    const last = this.samples[this.samples.length - 1];
    return {
      id: this.id,
      direction: this.direction,
      remote: this.remote,
      startedAt: this.startedAt,
      durationMs: Date.now() - this.startedAt,
      state: this.state,
      endReason: this.endReason,
      waterfall: Object.fromEntries(this.waterfall.entries()),
      codec: last?.codec,
      mos: last?.mos,
    };
  }

  // MediaHooks, called by the session description handler factory.
  remoteDescription(problem: Error | undefined): void {
    this.#descriptionProblem = problem?.message;
  }

  offerReady(): void {
    this.waterfall.mark('offerReady');
  }

  iceConnectionState(state: RTCIceConnectionState): void {
    if (state === 'connected' || state === 'completed') this.waterfall.mark('iceConnected');
  }

  connectionState(state: RTCPeerConnectionState): void {
    if (state === 'connected') {
      this.waterfall.mark('dtlsConnected');
      this.#mediaConnected = true;
      this.#media.mediaConnected();
      this.#maybeActive();
      this.#recovery.mediaBack();
    } else if (state === 'failed' && !isFinal(this.state) && this.state !== CallState.Reconnecting) {
      // While reconnecting a failed path is expected: the ICE restart is what repairs it.
      this.#end(CallState.Failed, networkLost('media connection failed'));
      void this.#terminateSession();
    }
  }

  #start(inviter: Inviter): void {
    this.waterfall.mark('dial');
    this.#machine.transition(CallState.Dialing);
    inviter
      .invite({
        requestDelegate: {
          onTrying: () => this.waterfall.mark('trying'),
          onProgress: (response) => {
            if (response.message.statusCode === 100) return;
            this.waterfall.mark('ringing');
            if (this.state === CallState.Dialing) this.#machine.transition(CallState.Ringing);
          },
          onAccept: (response) => {
            this.#noteCallToken(response.message);
            this.waterfall.mark('answered');
            if (this.state === CallState.Dialing || this.state === CallState.Ringing) {
              this.#machine.transition(CallState.Connecting);
            }
          },
          onReject: (response) => {
            const code = response.message.statusCode ?? 0;
            const words = REJECTION_WORDS[code] ?? response.message.reasonPhrase;
            this.#end(CallState.Failed, remoteRejection(code, words, response.message.getHeader('Warning')));
          },
        },
      })
      .then(() => this.waterfall.mark('inviteSent'))
      .catch((error: Error) => this.#end(CallState.Failed, networkLost(error.message)));
  }

  #onSessionState(state: SessionState): void {
    if (state === SessionState.Established) {
      this.#established = true;
      this.waterfall.mark(this.direction === 'outgoing' ? 'ackSent' : 'answered');
      this.#maybeActive();
      this.#media.established();
    } else if (state === SessionState.Terminated) {
      // SIP.js ends a rejected outgoing session before it calls onReject: let the rejection,
      // with its status, be the reason when there is one.
      setTimeout(() => {
        if (!isFinal(this.state)) {
          // SIP.js hangs up by itself (BYE, or 488 to an offer) when it cannot use the other
          // side's SDP: that is our failure, and its reason, not the other side hanging up.
          if (this.#descriptionProblem !== undefined)
            return this.#end(CallState.Failed, mediaRefused(this.#descriptionProblem));
          const cancelled = this.direction === 'incoming' && !this.#established;
          this.#end(CallState.Ended, remoteHangup(cancelled ? 'the caller hung up' : undefined));
        }
        this.#stopTimers();
      }, 0);
    }
  }

  #maybeActive(): void {
    if (this.#established && this.#mediaConnected && this.state === CallState.Connecting) {
      this.#machine.transition(CallState.Active);
    }
  }

  #timedOut(state: CallState): void {
    this.#end(CallState.Failed, timedOut(state));
    void this.#terminateSession();
  }

  async #terminateSession(): Promise<void> {
    try {
      if (this.session.state === SessionState.Established) await this.session.bye();
      else if (this.direction === 'outgoing') await (this.session as Inviter).cancel();
      else await (this.session as Invitation).reject({ statusCode: 480 });
    } catch {
      // the session is already gone
    }
  }

  #end(state: CallState.Ended | CallState.Failed, reason: EndReason): void {
    if (isFinal(this.state)) return;
    this.endReason = reason;
    this.#machine.transition(state);
    this.#machine.dispose();
    this.#stopTimers();
  }

  /**
   * Whether the other side holds the call: it offered sendonly or inactive (RFC 3264 §8.4), so
   * from here audio can only come in, or not at all, while we did not put it on hold ourselves.
   */
  get heldByRemote(): boolean {
    return this.#media.heldByRemote;
  }

  /**
   * Whether the browser reports the microphone's energy while sending (getStats `media-source`
   * totalAudioEnergy): false where it does not (Firefox), so a silent microphone ("no input")
   * cannot be detected there; undefined until the call has sent.
   */
  get microphoneMeasured(): boolean | undefined {
    return this.#media.microphoneMeasured;
  }

  /** The one-way audio warnings in force now. */
  get warnings(): MediaWarning[] {
    return this.#media.warnings;
  }

  #stopTimers(): void {
    this.#media.stop();
    this.#recovery.stop();
  }
}
