import { CallState } from './call-state.js';
import { type EndReason, remoteRejection } from './failure-reason.js';
import type { Waterfall } from './waterfall.js';

/** One loss of the signalling connection during the call, and how long the media took to come back. */
export interface Reconnect {
  at: number;
  tookMs?: number;
}

/**
 * Statuses after which a recovery re-INVITE is worth sending again: the far side is not back
 * yet (a restarted registrar does not know it until it registers again: 404, 480; an edge proxy
 * whose connection to it died: 430 Flow Failed, RFC 5626) or a server is still starting or
 * draining (500, 503).
 */
const RETRY_RECOVERY = new Set([404, 408, 430, 480, 500, 503]);
/** How soon to try again then: the far side registers within moments of its reconnection. */
const NOT_BACK_RETRY_MS = 250;
/**
 * How long to wait before sending a recovery re-INVITE again after it got `status` (undefined:
 * no answer at all), or undefined to give up.
 */
export function recoveryRetryDelay(
  status: number | undefined,
  direction: 'outgoing' | 'incoming',
  random: () => number = Math.random,
): number | undefined {
  // Both sides re-INVITEd at once (glare): 491, or 488 from SIP.js, which cannot answer an offer
  // while its own is pending. RFC 3261 §14.1: the Call-ID's owner (the caller) waits 2.1–4 s,
  // the other side 0–2 s.
  if (status === 491 || status === 488)
    return direction === 'outgoing' ? 2100 + random() * 1900 : random() * 2000;
  if (status === undefined) return 1000;
  return RETRY_RECOVERY.has(status) ? NOT_BACK_RETRY_MS : undefined;
}

/** The callee of the call leaves the first ICE restart to the caller, so that both do not collide (491). */
const CALLEE_RECOVERY_DELAY_MS = 1000;

/** What the recovery of one call is given by it; it knows nothing else of the call. */
export interface RecoveryContext {
  readonly direction: 'outgoing' | 'incoming';
  /** Where 'reconnecting' and 'reconnected' are marked. */
  readonly waterfall: Waterfall;
  state(): CallState;
  /** Whether the call's peer connection is connected now. */
  mediaConnected(): boolean;
  /**
   * Sends a re-INVITE offering an ICE restart (sendonly when `hold`). Rejects with the refusal's
   * `status` when there is one, the refused offer already undone.
   */
  restartIce(hold: boolean): Promise<void>;
  /** Moves the call's state machine (transitions 9 and 10 of call-state.ts). */
  moveTo(state: CallState.Reconnecting | CallState.Active | CallState.Held): void;
  /**
   * The media cannot be restarted: the call fails for `reason`. `hangUp`: the other side may
   * still have the call, so it is told (BYE) rather than left to time out.
   */
  fail(reason: EndReason, hangUp: boolean): void;
}

/**
 * A live call through a lost signalling connection: it waits in "reconnecting" until the phone
 * is registered again, then restarts the media with an ICE restart re-INVITE (the network path
 * may have changed with the connection), retried while the far side is not back yet, and goes
 * back to where it was (active or held) once the media is connected again.
 */
export class CallRecovery {
  readonly reconnects: Reconnect[] = [];
  readonly #call: RecoveryContext;
  #heldBefore = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(call: RecoveryContext) {
    this.#call = call;
  }

  /** The phone lost its signalling connection: a live call waits for it in "reconnecting". */
  connectionLost(): void {
    const state = this.#call.state();
    if (state !== CallState.Active && state !== CallState.Held) return;
    this.#heldBefore = state === CallState.Held;
    this.reconnects.push({ at: Date.now() });
    this.#call.waterfall.mark('reconnecting');
    this.#call.moveTo(CallState.Reconnecting);
  }

  /**
   * The phone is registered again: restart the media. The callee leaves the first try to the
   * caller and steps in only if the caller's has not come.
   */
  recover(): void {
    if (this.#call.state() !== CallState.Reconnecting) return;
    clearTimeout(this.#timer);
    const delay = this.#call.direction === 'incoming' ? CALLEE_RECOVERY_DELAY_MS : 0;
    this.#timer = setTimeout(() => void this.#restartMedia(), delay);
  }

  /**
   * Back to where the call was once the restarted media is connected: called when the peer
   * connection connects, and when either side's ICE restart re-INVITE was answered.
   */
  mediaBack(): void {
    if (this.#call.state() !== CallState.Reconnecting) return;
    if (!this.#call.mediaConnected()) return; // the peer connection's 'connected' calls again
    clearTimeout(this.#timer);
    const last = this.reconnects[this.reconnects.length - 1];
    if (last) last.tookMs = Date.now() - last.at;
    this.#call.waterfall.mark('reconnected');
    this.#call.moveTo(this.#heldBefore ? CallState.Held : CallState.Active);
  }

  /** The call ended: no retry may come after it. */
  stop(): void {
    clearTimeout(this.#timer);
  }

  async #restartMedia(): Promise<void> {
    if (this.#call.state() !== CallState.Reconnecting) return;
    try {
      await this.#call.restartIce(this.#heldBefore);
      this.mediaBack();
    } catch (error) {
      if (this.#call.state() !== CallState.Reconnecting) return;
      const status = (error as { status?: number }).status;
      if (status === 481) {
        this.#call.fail(remoteRejection(481, 'the other side no longer has this call'), false);
        return;
      }
      const delay = recoveryRetryDelay(status, this.#call.direction);
      if (delay === undefined) {
        this.#call.fail(remoteRejection(status ?? 0, 'could not restart the media'), true);
        return;
      }
      this.#timer = setTimeout(() => void this.#restartMedia(), delay);
    }
  }
}
