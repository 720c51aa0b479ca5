import { createHmac, randomBytes } from 'node:crypto';
import type { CredentialSource } from '../sip/auth/credentials.js';

/** What each derived key signs; one key per purpose, so no token can pass for another kind. */
export type KeyPurpose = 'digest-nonce' | 'dialog-route' | 'call-report' | 'sign-in-renewal';

/**
 * The keys the gateway signs its own tokens with (digest nonces, Record-Route dialog tokens,
 * call-report tokens), derived from the operator's secret so that every gateway sharing
 * `AUTH_SECRET` (and one restarted) accepts the others' tokens. Without `AUTH_SECRET` the users
 * file's content stands in for it (a secret only the server holds); in anonymous mode a random
 * key of this process, since nothing there survives a restart that needs to.
 */
export function serverKeys(
  credentials: Pick<CredentialSource, 'keyMaterial'> | undefined,
): (purpose: KeyPurpose) => Buffer {
  const root = credentials?.keyMaterial ?? randomBytes(32);
  return (purpose) => createHmac('sha256', root).update(`ringway ${purpose}`).digest();
}
