import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const USER_COMMAND = fileURLToPath(new URL('../../dist/user.mjs', import.meta.url));

/** Runs `npm run user -- <args>` (the built command) on `usersFile`, a password on standard input. */
export function userCommand(
  usersFile: string,
  args: string[],
  password?: string,
): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [USER_COMMAND, ...args], {
    env: { ...process.env, USERS_FILE: usersFile },
    input: password === undefined ? '' : `${password}\n`,
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Adds a person who signs in with `password`, as an operator would; throws if the command fails. */
export function addUser(usersFile: string, user: string, password: string): void {
  const run = userCommand(usersFile, ['add', user], password);
  if (run.status !== 0) throw new Error(`npm run user -- add ${user} failed: ${run.stderr}`);
}
