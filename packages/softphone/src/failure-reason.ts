/**
 * Why a registration or a call stopped: the user, the other side (with its SIP status), a wait
 * that ran out (naming the state it ran out in), or the network.
 */
export type EndReason =
  | { kind: 'local'; text: string }
  | { kind: 'remote'; code?: number; text: string; warning?: string }
  | { kind: 'timeout'; state: string; text: string }
  | { kind: 'network'; text: string };

export const localHangup = (text = 'hung up'): EndReason => ({ kind: 'local', text });
/** A rejection with its SIP status, and its Warning (RFC 3261 §20.43) when it says more. */
export const remoteRejection = (code: number, reason: string, warning?: string): EndReason => ({
  kind: 'remote',
  code,
  text: `${reason || 'rejected'} (${code})`,
  ...(warning ? { warning } : {}),
});
export const timedOut = (state: string): EndReason => ({
  kind: 'timeout',
  state,
  text: `timed out while ${state}`,
});
export const networkLost = (text?: string): EndReason => ({ kind: 'network', text: text ?? 'network lost' });
export const remoteHangup = (text = 'the other side hung up'): EndReason => ({ kind: 'remote', text });
/** We ended the call: the other side's media description could not be used (and why). */
export const mediaRefused = (problem: string): EndReason => ({
  kind: 'local',
  text: `ended here: the other side's media description could not be used (${problem})`,
});

/** Words for a person, from the SIP status of a remote rejection (RFC 3261 §21). */
export const REJECTION_WORDS: Readonly<Record<number, string>> = {
  404: 'not found',
  408: 'no answer',
  480: 'unavailable',
  486: 'busy',
  487: 'cancelled',
  488: 'no common codec',
  503: 'service unavailable',
  603: 'declined',
};
