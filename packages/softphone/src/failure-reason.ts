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

/** The registrar refused a REGISTER (a refresh, or the first): its status and reason phrase. */
export const registrationRefused = (code: number, reasonPhrase: string): EndReason => ({
  kind: 'remote',
  code,
  text: `refused (${`${code} ${reasonPhrase}`.trim()})`,
});
/** No refresh was accepted before the registration's expiry. */
export const registrationExpired = (): EndReason => ({
  kind: 'timeout',
  state: 'registered',
  text: 'registration expired',
});

/**
 * Statuses of a refused REGISTER worth trying again by itself, after a backoff: the registrar is
 * busy, starting or draining (RFC 3261 §21.5.4: 503; 500, 504), or did not answer in time (408).
 * Any other refusal (401, 403, 404) needs new credentials, which only a sign-in gives.
 */
export const RETRY_REGISTRATION: ReadonlySet<number> = new Set([408, 480, 500, 503, 504]);
