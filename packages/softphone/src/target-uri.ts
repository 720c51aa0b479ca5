import type { URI, UserAgent } from 'sip.js';

/**
 * What a person types or a contact holds, as a SIP URI: a user or number in the phone's own
 * domain (`bob`, `600`), or a SIP URI as given. Throws TypeError for anything else.
 */
export function targetUri(ua: UserAgent, target: string): URI {
  const uri = (ua.constructor as typeof UserAgent).makeURI(
    /^sips?:/.test(target) ? target : `sip:${target}@${ua.configuration.uri.host}`,
  );
  if (!uri) throw new TypeError(`"${target}" is not a user, number or SIP URI`);
  return uri;
}
