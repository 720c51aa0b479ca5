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
): CredentialSource | undefined {
  const sources: CredentialSource[] = [];
  if (config.authSecret) sources.push(ephemeralCredentials(config.authSecret));
  if (users) sources.push(staticCredentials(users));
  return sources.length > 0 ? combinedCredentials(sources) : undefined;
}

/**
 * Ephemeral credentials: username `<expiry-unix-seconds>:<user>`, password
 * `base64(HMAC-SHA1(secret, username))` — the scheme of Kamailio's auth_ephemeral
 * (username_format 1, sha_algorithm 0) and of coturn's `use-auth-secret` TURN REST API.
 */
export function ephemeralCredentials(secret: string): CredentialSource {
  return {
    lookup(username, now) {
      const match = /^(\d+):(.+)$/.exec(username);
      if (!match || Number(match[1]) * 1000 <= now) return undefined;
      return { password: ephemeralPassword(secret, username), user: match[2] as string };
    },
    knownUsers: () => [],
    keyMaterial: Buffer.from(secret),
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
