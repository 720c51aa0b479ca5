import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { hashPassword } from '../accounts/password-hash.js';
import { isRemoved, readUsers, USER_NAME, writeUsers } from '../accounts/users-file.js';

/**
 * `npm run user -- add alice | remove alice | list`: the people who sign in on the page, kept in
 * USERS_FILE (default data/users.json) as scrypt hashes. The password is asked twice on a
 * terminal without echo, or read as one line from standard input (`--password-stdin`-style, for
 * scripts). A running gateway picks up the change by itself.
 */
const USAGE = 'usage: npm run user -- add <name> | remove <name> | list   (USERS_FILE names the file)';
const MIN_PASSWORD = 8;

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const lines = createInterface({ input: process.stdin, terminal: false });
    for await (const line of lines) return line;
    throw new Error('no password on standard input');
  }
  // Echo the prompts, not what is typed.
  let echo = true;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (echo) process.stdout.write(chunk);
      done();
    },
  });
  const terminal = createInterface({ input: process.stdin, output, terminal: true });
  const ask = async (prompt: string) => {
    echo = true;
    output.write(prompt);
    echo = false;
    const answer = await terminal.question('');
    process.stdout.write('\n');
    return answer;
  };
  try {
    const first = await ask('Password: ');
    if ((await ask('Again: ')) !== first) throw new Error('the two passwords differ');
    return first;
  } finally {
    terminal.close();
  }
}

async function main(args: string[]): Promise<void> {
  const [command, name] = args;
  const path = resolve(process.env.USERS_FILE || 'data/users.json');
  const { users } = readUsers(path);
  if (command === 'list' && !name) {
    for (const [user, entry] of users)
      if (!isRemoved(entry)) console.log(`${user}\t${'passwordHash' in entry ? 'signs in' : 'SIP device'}`);
    return;
  }
  if (!name || (command !== 'add' && command !== 'remove')) throw new Error(USAGE);
  if (command === 'remove') {
    const entry = users.get(name);
    if (!entry || isRemoved(entry)) throw new Error(`${name} is not in ${path}`);
    // The name stays, marked removed, so that what was handed out to them is refused (credentials.ts).
    users.set(name, { removedAt: Math.floor(Date.now() / 1000) });
    writeUsers(path, users);
    console.log(`removed ${name} from ${path}`);
    return;
  }
  if (!USER_NAME.test(name))
    throw new Error(`"${name}" is not a user name: letters, digits and . _ ~ -, 64 at most`);
  const password = await readPassword();
  if (password.length < MIN_PASSWORD) throw new Error(`a password needs ${MIN_PASSWORD} characters at least`);
  const before = users.get(name);
  const existed = before !== undefined && !isRemoved(before);
  // changedAt ends every credential and sign-in handed out before (revocation, credentials.ts).
  users.set(name, { passwordHash: await hashPassword(password), changedAt: Math.floor(Date.now() / 1000) });
  mkdirSync(dirname(path), { recursive: true });
  writeUsers(path, users);
  console.log(`${existed ? 'changed the password of' : 'added'} ${name} in ${path}`);
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`ringway user: ${error.message}`);
  process.exit(1);
});
