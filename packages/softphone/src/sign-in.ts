/** Who a person signs in as: the address others call, and the name their password belongs to. */
export interface SignInIdentity {
  /** The address-of-record registered, e.g. `sip:gina@example.org`. */
  aor: string;
  /** The digest username, when a password is given. */
  authorizationUsername: string | undefined;
}

/** An ephemeral username (Kamailio auth_ephemeral `username_format` 1, coturn's REST API). */
const EPHEMERAL_USERNAME = /^(\d+):(.+)$/;

/**
 * The identity behind a sign-in form: `user` is the address (a name, or a whole SIP URI), and
 * `authorizationUser` the name the password belongs to when it differs. An ephemeral username
 * typed as the user (`<expiry>:gina`) signs in as `gina`: the expiry is part of the credential,
 * not of the address, or a call to `sip:gina@…` would never reach the page.
 */
export function signInIdentity(
  user: string,
  authorizationUser: string | undefined,
  password: string | undefined,
  sipDomain: string,
): SignInIdentity {
  const typed = user.trim();
  const ephemeral = authorizationUser ? undefined : EPHEMERAL_USERNAME.exec(typed);
  const name = ephemeral ? (ephemeral[2] as string) : typed;
  const aor = name.startsWith('sip:') || name.startsWith('sips:') ? name : `sip:${name}@${sipDomain}`;
  if (!password) return { aor, authorizationUsername: undefined };
  return { aor, authorizationUsername: authorizationUser?.trim() || typed };
}

/**
 * Whether the gateway's answer to a sign-in renewal (POST /api/sign-in/renew) ends the sign-in:
 * only 401 does (the sign-in is too old, or the person was removed). A 429, a 503 while the
 * gateway restarts, any other failure or no answer at all is passing: the page tries again
 * (RENEWAL_BACKOFF) and keeps its calls.
 */
export function renewalEndsSignIn(status: number | undefined): boolean {
  return status === 401;
}

/** Delays between renewal attempts after a passing failure (jittered, see backoff.ts). */
export const RENEWAL_BACKOFF = { baseMs: 1000, maxMs: 15_000 } as const;
