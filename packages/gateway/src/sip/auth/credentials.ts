import { createHmac } from 'node:crypto';
import type { UsersFile } from '../../accounts/users-file.js';
import type { GatewayConfig } from '../../config/config-schema.js';

/**
 * Where a digest username's password comes from, and which SIP user it speaks for.
 * `lookup` returns undefined when the username is unknown or its credential has expired.
 */
export interface CredentialSource {
  lookup(username: string, now: number): { password: string; user: string } | undefined;
  /** Users that exist whether or not they are registered (for 404 against 480). */
  knownUsers(): Iterable<string>;
  /** A secret only the server holds, from which its signing keys are derived (server-keys.ts). */
  readonly keyMaterial: Buffer;
}

/** The credentials configuration names (AUTH_SECRET, the SIP devices of USERS_FILE), or undefined in anonymous mode. */
export function credentialsFromConfig(
  config: Pick<GatewayConfig, 'authSecret'>,
  users: UsersFile | undefined,
  revoked?: Revocation,
): CredentialSource | undefined {
  const sources: CredentialSource[] = [];
  if (config.authSecret) sources.push(ephemeralCredentials(config.authSecret, revoked));
  if (users) sources.push(staticCredentials(users));
  return sources.length > 0 ? combinedCredentials(sources) : undefined;
}

/**
 * Ephemeral credentials: username `<expiry-unix-seconds>:<user>`, password
 * `base64(HMAC-SHA1(secret, username))` — the scheme of Kamailio's auth_ephemeral
 * (username_format 1, sha_algorithm 0) and of coturn's `use-auth-secret` TURN REST API.
 */
export function ephemeralCredentials(secret: string, revoked?: Revocation): CredentialSource {
  return {
    lookup(username, now) {
      const parsed = parseEphemeralUsername(username);
      if (!parsed || parsed.expiry * 1000 <= now || revoked?.(username) !== undefined) return undefined;
      return { password: ephemeralPassword(secret, username), user: parsed.user };
    },
    knownUsers: () => [],
    keyMaterial: Buffer.from(secret),
  };
}

const EPHEMERAL_USERNAME = /^(\d{1,12}):(.+)$/;

function parseEphemeralUsername(username: string): { expiry: number; user: string } | undefined {
  const match = EPHEMERAL_USERNAME.exec(username);
  return match ? { expiry: Number(match[1]), user: match[2] as string } : undefined;
}

/**
 * The SIP user a digest username speaks for: `<expiry>:<user>` for an ephemeral credential, the
 * username itself for a SIP device. Upstream mode reads it from the credential the upstream
 * checks, so that the connection is bound to exactly the user the credential proves.
 */
export function credentialUser(username: string): string {
  return parseEphemeralUsername(username)?.user ?? username;
}

/** Why a credential no longer speaks for its user, or undefined while it does. */
export type Revocation = (username: string) => string | undefined;

/**
 * Revocation through USERS_FILE: an ephemeral credential of someone the file names is good only
 * while they are still in it and when it was handed out after their last change (`changedAt`,
 * written by `npm run user -- add`): removing someone (`remove` leaves `removedAt`), adding them
 * again or changing their password ends every credential handed out before. Their credentials
 * come from the sign-in, so one was issued at its expiry less SIGN_IN_CREDENTIAL_SECONDS. Names
 * the file never had (credentials AUTH_SECRET's owner mints elsewhere, call-link guests) are not
 * its business. Kamailio cannot read the file, so in upstream mode the gateway applies this to
 * the credentials it relays (upstream-relay.ts).
 */
export function revocationByUsersFile(users: UsersFile, credentialSeconds: number): Revocation {
  return (username) => {
    const parsed = parseEphemeralUsername(username);
    const epoch = parsed && users.epoch(parsed.user);
    if (!parsed || !epoch) return undefined;
    if (epoch.removed) return `${parsed.user} was removed`;
    // Whole seconds: one handed out in the second of the change may be from before it (the
    // sign-in dates what it hands out in that second the second after).
    if (epoch.changedAt !== undefined && parsed.expiry - credentialSeconds <= epoch.changedAt)
      return `the credential was handed out before ${parsed.user}'s last change`;
    return undefined;
  };
}

export function ephemeralPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** A username and password for `user`, valid for `ttlSeconds` from `now` (ms). */
export function issueEphemeralCredential(
  secret: string,
  user: string,
  ttlSeconds: number,
  now: number = Date.now(),
): { username: string; password: string; expiresAt: number } {
  const expiry = Math.floor(now / 1000) + ttlSeconds;
  const username = `${expiry}:${user}`;
  return { username, password: ephemeralPassword(secret, username), expiresAt: expiry * 1000 };
}

/**
 * The SIP devices of USERS_FILE (entries with a digest password). People who sign in with a
 * password (hashed entries) get ephemeral credentials instead, so they have none here.
 */
export function staticCredentials(users: UsersFile): CredentialSource {
  return {
    lookup(username) {
      const entry = users.get(username);
      return entry && 'sipPassword' in entry ? { password: entry.sipPassword, user: username } : undefined;
    },
    knownUsers: () => users.names(),
    keyMaterial: users.keyMaterial,
  };
}

/** Tries each source in turn. */
export function combinedCredentials(sources: CredentialSource[]): CredentialSource {
  return {
    lookup(username, now) {
      for (const source of sources) {
        const found = source.lookup(username, now);
        if (found) return found;
      }
      return undefined;
    },
    knownUsers: () => sources.flatMap((s) => [...s.knownUsers()]),
    // AUTH_SECRET's when it is set (gateways sharing it share their keys), else the users file's.
    keyMaterial: (sources[0] as CredentialSource).keyMaterial,
  };
}
