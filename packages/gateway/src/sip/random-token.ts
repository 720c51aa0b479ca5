import { randomUUID } from 'node:crypto';

/**
 * Random hex for tags and branches (RFC 3261 §19.3 asks for at least 32 random bits).
 * randomUUID() draws from a pooled entropy buffer; randomBytes() per call cost ~15 µs each and
 * showed up as the largest item of a REGISTER storm's profile.
 */
export function randomToken(hexDigits = 12): string {
  return randomUUID().replaceAll('-', '').slice(0, hexDigits);
}
