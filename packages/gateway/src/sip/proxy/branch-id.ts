import { createHash } from 'node:crypto';
import { header, type SipRequest } from '../message.js';
import { randomToken } from '../random-token.js';

/** RFC 3261 §8.1.1.7: branches that start with the magic cookie are unique per transaction. */
export const MAGIC_COOKIE = 'z9hG4bK';

function digest(text: string, length: number): string {
  return createHash('sha1').update(text).digest('hex').slice(0, length);
}

/**
 * The part of our branch that detects loops (RFC 3261 §16.6 step 8): a hash of the fields that
 * decide where a request goes. A request that comes back carrying our Via with the same hash has
 * looped; one with a different hash is a spiral and may go on.
 */
export function loopHash(request: SipRequest): string {
  let hash = loopHashes.get(request);
  if (hash === undefined) {
    hash = hashOfRoutingFields(request);
    loopHashes.set(request, hash);
  }
  return hash;
}

/**
 * Hashes already taken, by request: the proxy asks for a request's twice (has it looped? then
 * its branch), and a request is never changed once parsed (message.ts makes copies).
 */
const loopHashes = new WeakMap<SipRequest, string>();

function hashOfRoutingFields(request: SipRequest): string {
  const fields = ['To', 'From', 'Call-ID', 'CSeq', 'Proxy-Require', 'Proxy-Authorization'].map(
    (name) => header(request, name) ?? '',
  );
  return digest([request.uri, ...fields].join('\n'), 10);
}

export function newBranch(request: SipRequest): string {
  return `${MAGIC_COOKIE}${loopHash(request)}.${randomToken()}`;
}

/** A stateless proxy's branch must be the same for retransmissions (RFC 3261 §16.11). */
export function statelessBranch(incomingBranch: string): string {
  return `${MAGIC_COOKIE}${digest(incomingBranch, 16)}`;
}
