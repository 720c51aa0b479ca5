import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isPasswordHash } from './password-hash.js';

/**
 * A user of USERS_FILE: someone who signs in on the page with a password (stored as a scrypt
 * hash by `npm run user -- add`), or a SIP device with a digest password (a string, as digest
 * authentication needs the password itself).
 */
export type UserEntry =
  | {
      passwordHash: string;
      /**
       * When the user was last added or given a password, unix seconds (`npm run user -- add`
       * writes it): credentials and sign-ins handed out before then speak for nobody.
       */
      changedAt?: number;
    }
  | { sipPassword: string };

/**
 * What `npm run user -- remove` leaves of someone: when they were removed, unix seconds. The name
 * stays so that credentials handed out to them before are refused (credentials.ts), while a
 * credential for a name the file never had (one AUTH_SECRET's owner mints elsewhere) is not the
 * file's business.
 */
export type RemovedUser = { removedAt: number };

/** An entry of the file as stored: a user, or what is left of a removed one. */
export type StoredEntry = UserEntry | RemovedUser;

/** Whether a user's credentials from before a time are void, as the file says. */
export type UserEpoch = { removed: true } | { removed: false; changedAt: number | undefined };

/** Names `npm run user` accepts: a SIP user part without escaping. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$/;

/** How often, at most, the file's modification time is looked at. */
const RECHECK_MS = 1000;

/**
 * Reads `{ "alice": { "passwordHash": "scrypt$…" }, "deskphone": "digest-password" }`.
 * Throws an error naming the file and the entry when it cannot be used.
 */
export function parseUsers(text: string, path: string): Map<string, StoredEntry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`usersFile: cannot read ${path} as JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`usersFile: ${path} must be a JSON object of user names`);
  }
  const users = new Map<string, StoredEntry>();
  for (const [user, value] of Object.entries(parsed)) {
    if (typeof value === 'string' && value.length > 0) users.set(user, { sipPassword: value });
    else if (Number.isSafeInteger(value?.removedAt)) users.set(user, { removedAt: value.removedAt });
    else if (
      typeof value?.passwordHash === 'string' &&
      isPasswordHash(value.passwordHash) &&
      (value.changedAt === undefined || Number.isSafeInteger(value.changedAt))
    )
      users.set(user, {
        passwordHash: value.passwordHash,
        ...(value.changedAt === undefined ? {} : { changedAt: value.changedAt }),
      });
    else
      throw new Error(
        `usersFile: ${path}: "${user}" must be a SIP password (a non-empty string), { "passwordHash": "scrypt$…", "changedAt": <unix seconds> } or { "removedAt": <unix seconds> }`,
      );
  }
  return users;
}

/** Writes the users atomically (a whole new file renamed over the old), readable by its owner only. */
export function writeUsers(path: string, users: ReadonlyMap<string, StoredEntry>): void {
  const json = Object.fromEntries(
    [...users].map(([user, entry]) => [user, 'sipPassword' in entry ? entry.sipPassword : entry]),
  );
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** The users in `path`, or none when it does not exist yet. */
export function readUsers(path: string): { users: Map<string, StoredEntry>; text: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { users: new Map(), text: '' };
    throw new Error(`usersFile: cannot read ${path}: ${(error as Error).message}`);
  }
  return { users: parseUsers(text, path), text };
}

/**
 * USERS_FILE as the gateway sees it: read at start (a bad file stops start-up), then read again
 * when it changes, so that users the operator adds can sign in without a restart. A change that
 * cannot be read keeps the users read before, and is reported once.
 */
export class UsersFile {
  #users: Map<string, StoredEntry>;
  #modifiedMs: number;
  readonly #changeListeners = new Set<(users: string[]) => void>();
  #checkedAt = 0;
  /** A secret only the server holds (the file as read at start), or a random one for a file not there yet. */
  readonly keyMaterial: Buffer;

  constructor(
    readonly path: string,
    private readonly onReloadError: (message: string) => void = () => undefined,
  ) {
    const { users, text } = readUsers(path);
    this.#users = users;
    this.#modifiedMs = this.#modified();
    this.keyMaterial = text ? createHash('sha256').update(text).digest() : randomBytes(32);
  }

  get(user: string): UserEntry | undefined {
    this.#refresh();
    const entry = this.#users.get(user);
    return entry && !isRemoved(entry) ? entry : undefined;
  }

  names(): string[] {
    this.#refresh();
    return [...this.#users].filter(([, entry]) => !isRemoved(entry)).map(([name]) => name);
  }

  /** What the file says of `user`'s credentials, or undefined for a name it never had. */
  epoch(user: string): UserEpoch | undefined {
    this.#refresh();
    const entry = this.#users.get(user);
    if (!entry) return undefined;
    if (isRemoved(entry)) return { removed: true };
    return { removed: false, changedAt: 'changedAt' in entry ? entry.changedAt : undefined };
  }

  /**
   * Calls `listener` with the users removed or changed (a new password, added again) each time the
   * file is read anew; looks at it every second meanwhile. Returns the function that stops it.
   */
  watch(listener: (users: string[]) => void): () => void {
    this.#changeListeners.add(listener);
    const timer = setInterval(() => this.#refresh(), RECHECK_MS);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.#changeListeners.delete(listener);
    };
  }

  #modified(): number {
    try {
      return statSync(this.path).mtimeMs;
    } catch {
      return 0;
    }
  }

  #refresh(): void {
    const now = Date.now();
    if (now - this.#checkedAt < RECHECK_MS) return;
    this.#checkedAt = now;
    const modified = this.#modified();
    if (modified === this.#modifiedMs) return;
    this.#modifiedMs = modified;
    let users: Map<string, StoredEntry>;
    try {
      users = readUsers(this.path).users;
    } catch (error) {
      this.onReloadError((error as Error).message);
      return;
    }
    const before = this.#users;
    this.#users = users;
    const changed = [...before]
      .filter(([name, entry]) => !sameEntry(entry, users.get(name)))
      .map(([name]) => name);
    if (changed.length > 0) for (const listener of this.#changeListeners) listener(changed);
  }
}

export function isRemoved(entry: StoredEntry): entry is RemovedUser {
  return 'removedAt' in entry;
}

function sameEntry(a: StoredEntry, b: StoredEntry | undefined): boolean {
  if (b === undefined) return false;
  if (isRemoved(a)) return isRemoved(b);
  if ('sipPassword' in a) return 'sipPassword' in b && a.sipPassword === b.sipPassword;
  return 'passwordHash' in b && a.passwordHash === b.passwordHash && a.changedAt === b.changedAt;
}
