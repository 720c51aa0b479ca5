import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { type RunningGateway, startGateway } from '../../packages/gateway/test/support/gateway.js';
import { addUser } from '../../packages/gateway/test/support/users.js';
import { launchChromium } from './chromium.js';

/** What the page's own tests share: a gateway serving the page on loopback, and a Chromium. */
export interface PageStack {
  gateway: RunningGateway;
  browser: Browser;
  /** The page's origin, e.g. http://127.0.0.1:PORT. */
  base: string;
  close(): Promise<void>;
}

async function stackWith(env: Record<string, string>): Promise<PageStack> {
  const gateway = await startGateway({ SIP_DOMAIN: '127.0.0.1', ...env });
  const browser = await launchChromium();
  return {
    gateway,
    browser,
    base: `http://127.0.0.1:${gateway.port}`,
    close: async () => {
      await browser.close();
      await gateway.close();
    },
  };
}

/** The gateway in loopback development mode (`?user=` registers without credentials). */
export function pageStack(): Promise<PageStack> {
  return stackWith({});
}

/** The password each user of a password stack signs in with. */
export const passwordOf = (user: string) => `${user}-password-1`;

/** A new users file with `users` added as an operator would, each with `passwordOf(user)`. */
export function usersFileWith(users: string[]): string {
  const usersFile = join(mkdtempSync(join(tmpdir(), 'ringway-users-')), 'users.json');
  for (const user of users) addUser(usersFile, user, passwordOf(user));
  return usersFile;
}

/**
 * The gateway with password sign-in, as an operator runs it: `users` in a users file
 * (`usersFileWith`), ephemeral credentials from an AUTH_SECRET; `env` adds settings.
 */
export async function passwordPageStack(
  users: string[],
  env: Record<string, string> = {},
): Promise<PageStack & { usersFile: string }> {
  const usersFile = usersFileWith(users);
  const stack = await stackWith({
    AUTH_SECRET: randomBytes(24).toString('base64'),
    USERS_FILE: usersFile,
    ...env,
  });
  return { ...stack, usersFile };
}
