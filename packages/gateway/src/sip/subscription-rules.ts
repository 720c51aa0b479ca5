import { parseUri } from './address.js';
import { header, type SipRequest } from './message.js';

/**
 * Event packages whose resource is the subscriber's own: a voicemail box (message-summary,
 * RFC 3842) tells its counts to its owner only. A PBX may not check it (Asterisk lets any of its
 * endpoints subscribe to any mailbox AoR), so the gateway does.
 */
const OWNER_ONLY_PACKAGES: ReadonlySet<string> = new Set(['message-summary']);

/** The package an Event header names, without its parameters (RFC 6665 §8.2.1). */
export function eventPackage(request: SipRequest): string {
  return (header(request, 'Event') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Why `subscriber` may not send this SUBSCRIBE (undefined when it may). */
export function subscriptionRefusal(request: SipRequest, subscriber: string | undefined): string | undefined {
  if (request.method !== 'SUBSCRIBE' || !OWNER_ONLY_PACKAGES.has(eventPackage(request))) return undefined;
  const owner = parseUri(request.uri)?.user;
  return owner !== undefined && owner === subscriber
    ? undefined
    : `${eventPackage(request)} is only for its owner`;
}
