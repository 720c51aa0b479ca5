// Digest answers for the SIP load clients, so that they run against the deployment's own
// kamailio-config/kamailio.cfg (auth_ephemeral on AUTH_SECRET) rather than a configuration
// without authentication: ephemeral credentials as the gateway's sign-in hands them out, and the
// Authorization / Proxy-Authorization value for a challenge (computed by the tests' own client
// code, not the gateway's).
import { createHmac } from 'node:crypto';
import { digestAnswer } from '../../packages/gateway/test/support/digest-answer.mjs';

/**
 * An ephemeral credential for `user` (Kamailio auth_ephemeral `username_format` 1, SHA-1): the
 * username `<expiry>:<user>`, the password base64(HMAC-SHA1(secret, username)).
 */
export function ephemeralCredential(secret, user, seconds = 3600) {
  const username = `${Math.floor(Date.now() / 1000) + seconds}:${user}`;
  return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
}

/**
 * The challenge of a 401 (`WWW-Authenticate`, answered in `Authorization`) or a 407
 * (`Proxy-Authenticate`, answered in `Proxy-Authorization`) kept with `credential`, or undefined
 * when the response carries none. Kamailio's nonces are stateless and good for 300 s (the auth
 * module's defaults: no nonce counting, no one-time nonces), so a client that keeps the challenge
 * answers its next requests without being challenged again, as a UA that caches it does.
 */
export function keepChallenge(responseText, credential) {
  const proxy = responseText.startsWith('SIP/2.0 407');
  const name = proxy ? 'proxy-authenticate' : 'www-authenticate';
  const line = responseText.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
  if (!line) return undefined;
  const challenge = line.slice(line.indexOf(':') + 1).trim();
  return { challenge, header: proxy ? 'Proxy-Authorization' : 'Authorization', credential };
}

/** The header line for `kept` (from keepChallenge) on a request of `method` to `uri`. */
export function authorizationLine(kept, method, uri) {
  return `${kept.header}: ${digestAnswer(kept.challenge, { method, uri }, kept.credential)}`;
}
