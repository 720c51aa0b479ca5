/**
 * One call, from either side.
 *
 * Valid transitions:
 * 1. "idle" --> "dialing"         (caller: INVITE sent)
 * 2. "idle" --> "ringing"         (callee: INVITE received, the phone rings)
 * 3. "dialing" --> "ringing"      (caller: 180/183, the far phone rings; early media may play)
 * 4. "dialing" --> "connecting"   (caller: 200 without ringing first)
 * 5. "ringing" --> "connecting"   (caller: 200 received; callee: answered) — ICE and DTLS under way
 * 6. "connecting" --> "active"    (media connected both ways)
 * 7. "active" --> "held"          (either side put the call on hold)
 * 8. "held" --> "active"          (resumed)
 * 9. "active" | "held" --> "reconnecting"  (the signalling connection dropped: media may be dead)
 * 10. "reconnecting" --> "active" | "held"  (registered again and the media restarted: ICE restart re-INVITE)
 * 11. "dialing" | "ringing" | "connecting" | "active" | "held" | "reconnecting" --> "ended"  (hang-up or cancel, by either side)
 * 12. "dialing" | "ringing" | "connecting" | "active" | "held" | "reconnecting" --> "failed" (rejected, timed out, network lost)
 * "ended" and "failed" are final and carry an EndReason.
 */
export enum CallState {
  Idle = 'idle',
  Dialing = 'dialing',
  Ringing = 'ringing',
  Connecting = 'connecting',
  Active = 'active',
  Held = 'held',
  Reconnecting = 'reconnecting',
  Ended = 'ended',
  Failed = 'failed',
}

const LIVE = [
  CallState.Dialing,
  CallState.Ringing,
  CallState.Connecting,
  CallState.Active,
  CallState.Held,
  CallState.Reconnecting,
] as const;

export const CALL_TRANSITIONS = [
  [CallState.Idle, CallState.Dialing],
  [CallState.Idle, CallState.Ringing],
  [CallState.Dialing, CallState.Ringing],
  [CallState.Dialing, CallState.Connecting],
  [CallState.Ringing, CallState.Connecting],
  [CallState.Connecting, CallState.Active],
  [CallState.Active, CallState.Held],
  [CallState.Held, CallState.Active],
  [CallState.Active, CallState.Reconnecting],
  [CallState.Held, CallState.Reconnecting],
  [CallState.Reconnecting, CallState.Active],
  [CallState.Reconnecting, CallState.Held],
  ...LIVE.map((s) => [s, CallState.Ended] as const),
  ...LIVE.map((s) => [s, CallState.Failed] as const),
] as const;

/** Whether a call in this state is over. */
export function isFinal(state: CallState): boolean {
  return state === CallState.Ended || state === CallState.Failed;
}
