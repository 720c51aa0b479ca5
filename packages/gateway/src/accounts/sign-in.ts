import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IceServer } from '../config/config-schema.js';
import { type ClientCredentials, issueClientCredentials } from '../sip/auth/client-credentials.js';
import { verifyPassword } from './password-hash.js';
import type { UsersFile } from './users-file.js';

export interface SignInOptions {
  users: UsersFile;
  /** AUTH_SECRET: what the SIP and TURN credentials handed out are signed with. */
  secret: string;
  /** The key renewal tokens are signed with (server-keys.ts). */
  renewalKey: Buffer;
  sipDomain: string;
  iceServers: IceServer[];
  /** Lifetime of the SIP and TURN credentials, s. */
  credentialSeconds: number;
  /** How long one sign-in may be renewed before the password is asked again, s. */
  sessionSeconds: number;
}

/** What a signed-in page holds: credentials, when to renew them, and the token that renews them. */
export interface SignInGrant {
  user: string;
  credentials: ClientCredentials;
  /** When the page should renew, ms since the epoch: three quarters into the credentials' life. */
  renewAt: number;
  renewToken: string;
  /** The other people of USERS_FILE, for the page's contact list: the colleagues one may call. */
  directory: string[];
}

/** Names in a sign-in's directory at most: a page's contact list, not a way to page through a big file. */
const MAX_DIRECTORY = 500;

const base64url = (text: string) => Buffer.from(text).toString('base64url');

/**
 * Password sign-in for the people of USERS_FILE: a password is checked in constant time against
 * its scrypt hash (an unknown user costs the same), and a right one is exchanged for ephemeral SIP
 * and TURN credentials from AUTH_SECRET — the scheme Kamailio and coturn check, so this works in
 * front of the embedded registrar and in upstream mode alike. A renewal token, signed by the
 * server, renews them without the password until the sign-in is `sessionSeconds` old, as long as
 * the user is still in the file.
 */
export class SignIn {
  constructor(private readonly options: SignInOptions) {}

  async check(user: string, password: string): Promise<boolean> {
    const entry = this.options.users.get(user);
    const hash = entry && 'passwordHash' in entry ? entry.passwordHash : undefined;
    const hashMatches = await verifyPassword(hash, password);
    if (!entry || 'passwordHash' in entry) return hashMatches;
    // A SIP device's digest password signs in too (after the same scrypt work, so as not to tell).
    const digest = (text: string) => createHash('sha256').update(text).digest();
    return timingSafeEqual(digest(entry.sipPassword), digest(password));
  }

  grant(user: string, wsServer: string, signedInAt: number, now: number = Date.now()): SignInGrant {
    const { credentialSeconds } = this.options;
    // Credentials and sign-ins are dated in whole seconds, and one dated in the second of the
    // user's last change counts as handed out before it (revocation, credentials.ts): what is
    // handed out in that second is dated the second after.
    const epoch = this.options.users.epoch(user);
    const notBefore = epoch?.removed === false && epoch.changedAt !== undefined ? epoch.changedAt + 1 : 0;
    const credentials = issueClientCredentials(this.options.secret, {
      user,
      sipDomain: this.options.sipDomain,
      ttlSeconds: credentialSeconds,
      wsServer,
      iceServers: this.options.iceServers,
      issuedAt: Math.max(now, notBefore * 1000),
    });
    const signedInSeconds = Math.max(Math.floor(signedInAt / 1000), notBefore);
    return {
      user,
      credentials,
      renewAt: now + credentialSeconds * 750,
      renewToken: `${base64url(user)}.${signedInSeconds}.${this.#mac(user, signedInSeconds)}`,
      directory: this.options.users
        .names()
        .filter((name) => name !== user)
        .sort()
        .slice(0, MAX_DIRECTORY),
    };
  }

  /** The sign-in a renewal token stands for, or undefined when it is forged, too old or its user is gone. */
  renewal(token: string, now: number = Date.now()): { user: string; signedInAt: number } | undefined {
    const [encodedUser, seconds, mac, extra] = token.split('.');
    if (!encodedUser || !seconds || !mac || extra !== undefined || !/^\d{1,12}$/.test(seconds))
      return undefined;
    const user = Buffer.from(encodedUser, 'base64url').toString();
    const expected = Buffer.from(this.#mac(user, Number(seconds)));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const signedInAt = Number(seconds) * 1000;
    if (now - signedInAt > this.options.sessionSeconds * 1000) return undefined;
    // Removed, added again or given a new password since: that ends the sign-in (revocation).
    const entry = this.options.users.get(user);
    if (!entry) return undefined;
    if ('changedAt' in entry && entry.changedAt !== undefined && Number(seconds) <= entry.changedAt)
      return undefined;
    return { user, signedInAt };
  }

  #mac(user: string, signedInSeconds: number): string {
    return createHmac('sha256', this.options.renewalKey)
      .update(`${user}\n${signedInSeconds}`)
      .digest('base64url');
  }
}
