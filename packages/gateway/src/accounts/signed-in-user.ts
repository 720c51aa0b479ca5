import { createHash, timingSafeEqual } from 'node:crypto';
import { sessionOfUser } from '../sessions/rendezvous-session.js';
import type { CredentialSource } from '../sip/auth/credentials.js';
import type { SignIn } from './sign-in.js';

/**
 * Who an HTTP request's `Authorization` proves to be, for what only people with an account may
 * do (creating a call link): `Bearer <renewToken>` of a live page sign-in, or `Basic` with SIP
 * credentials the registrar would accept (a device, or ephemeral ones). A call-link guest's
 * credentials prove no person. Undefined when nothing is proven.
 */
export function signedInUser(
  authorization: string | undefined,
  sources: { signIn: SignIn | undefined; credentials: CredentialSource | undefined },
  now: number = Date.now(),
): string | undefined {
  const [scheme, value] = (authorization ?? '').trim().split(/\s+/, 2);
  if (!value) return undefined;
  if (/^bearer$/i.test(scheme ?? '')) return sources.signIn?.renewal(value, now)?.user;
  if (!/^basic$/i.test(scheme ?? '')) return undefined;
  const decoded = Buffer.from(value, 'base64').toString();
  if (decoded.length > MAX_BASIC_LENGTH) return undefined;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  // An ephemeral username has a colon of its own (`<expiry>:<user>`), which Basic (RFC 7617)
  // cannot tell from the separator: try each colon; only the right split names a credential.
  for (let colon = decoded.indexOf(':'); colon >= 0; colon = decoded.indexOf(':', colon + 1)) {
    const found = sources.credentials?.lookup(decoded.slice(0, colon), now);
    if (!found || sessionOfUser(found.user) !== undefined) continue;
    if (timingSafeEqual(digest(found.password), digest(decoded.slice(colon + 1)))) return found.user;
  }
  return undefined;
}

/** A Basic credential longer than this is no SIP credential of ours. */
const MAX_BASIC_LENGTH = 512;
