import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes for sign-in: scrypt (node:crypto, on libuv's thread pool, so a hash never
 * blocks the event loop), stored as `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64) so that the cost
 * can rise later without invalidating what is stored. N = 2^15, r = 8: 32 MiB and tens of
 * milliseconds per guess.
 */
const COST = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

function derive(password: string, salt: Buffer, cost: typeof COST): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isPasswordHash(stored: string): boolean {
  return FORMAT.test(stored);
}

/** A hash of a password nobody has: checked when the user is unknown, so that takes as long. */
let nobody: Promise<string> | undefined;

/**
 * Whether `password` matches `stored` (a hash from hashPassword), in constant time. With no
 * stored hash (an unknown user) it spends the same work on a hash nobody matches and says no.
 */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  nobody ??= hashPassword(randomBytes(16).toString('base64'));
  const known = stored === undefined ? null : FORMAT.exec(stored);
  const [, n, r, p, salt, hash] = (known ?? FORMAT.exec(await nobody)) as unknown as string[];
  const expected = Buffer.from(hash as string, 'base64');
  const key = await derive(password, Buffer.from(salt as string, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(key, expected) && known !== null;
}
