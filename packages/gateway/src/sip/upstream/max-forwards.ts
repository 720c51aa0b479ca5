import { header, type SipRequest } from '../message.js';

/** RFC 3261 §8.1.1.6: what a request without Max-Forwards is taken to have had. */
const DEFAULT_MAX_FORWARDS = 70;

/**
 * The Max-Forwards the relay writes on a request it passes on, either way: one less than it came
 * with (RFC 3261 §16.6 step 3; 70 less one when it had none or an unreadable one), or undefined
 * when it came with 0 and goes no further (§16.3 step 3: 483 Too Many Hops, nothing for an ACK).
 */
export function forwardedMaxForwards(request: SipRequest): number | undefined {
  const value = header(request, 'Max-Forwards')?.trim() ?? '';
  const hops = /^\d{1,9}$/.test(value) ? Number(value) : DEFAULT_MAX_FORWARDS;
  return hops === 0 ? undefined : hops - 1;
}
