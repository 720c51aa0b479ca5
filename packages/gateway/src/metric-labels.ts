import { REASON_PHRASES } from './sip/reason-phrases.js';

/**
 * Label values taken from SIP traffic, each from a fixed set: a label that copied the wire would
 * let anyone grow the label sets, and `/metrics` with them, for ever.
 */

const KNOWN_METHODS = new Set([
  'ACK',
  'BYE',
  'CANCEL',
  'INFO',
  'INVITE',
  'MESSAGE',
  'NOTIFY',
  'OPTIONS',
  'PRACK',
  'PUBLISH',
  'REFER',
  'REGISTER',
  'SUBSCRIBE',
  'UPDATE',
]);

/** Codecs a call may be counted under (`name/clock[/channels]`, as @ringway/sdp writes them). */
const KNOWN_CODECS = new Set([
  'opus/48000/2',
  'PCMU/8000',
  'PCMA/8000',
  'G722/8000',
  'G729/8000',
  'G723/8000',
  'iLBC/8000',
  'ISAC/16000',
  'ISAC/32000',
  'GSM/8000',
]);

/** A request method, or `other`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

/** A status with a name in RFC 3261 §21 as itself; any other as its class (`4xx`). */
export function statusLabel(status: number): string {
  return status in REASON_PHRASES ? String(status) : `${Math.floor(status / 100)}xx`;
}

/** A codec as negotiated, or `other`. */
export function codecLabel(codec: string): string {
  return KNOWN_CODECS.has(codec) ? codec : 'other';
}
