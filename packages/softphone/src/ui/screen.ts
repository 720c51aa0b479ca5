/**
 * The page shows one screen per situation, as a phone does: signing in, idle (dialer, contacts,
 * recent calls), an incoming call (big, with Answer focused) or a call in progress (its timer,
 * controls and second line). A call arriving during another is call waiting: a banner on the
 * in-call screen, not a new screen.
 */
export type Screen = 'sign-in' | 'idle' | 'incoming' | 'in-call';

export interface ScreenInputs {
  /** Registered, or reconnecting with its calls kept. */
  ready: boolean;
  /** A call rings for us and waits for Answer or Decline. */
  ringing: boolean;
  /** Calls set up or being set up that are not ringing for us: dialled, answered, held. */
  liveCalls: number;
}

export function screenFor({ ready, ringing, liveCalls }: ScreenInputs): Screen {
  if (liveCalls > 0) return 'in-call';
  if (ringing) return 'incoming';
  return ready ? 'idle' : 'sign-in';
}

/** A call's length as a phone shows it: m:ss, or h:mm:ss past the hour. */
export function callDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}
