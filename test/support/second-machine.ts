import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecondMachine {
  /** A Chromium executable that runs on this machine (for playwright-core's executablePath). */
  chromium: string;
  remove(): void;
}

function ip(...args: string[]): void {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')}: ${run.stderr}`);
}

/**
 * "Another machine" for browsers: a network namespace whose only interfaces are `lo` and one end
 * of a veth pair, with no route anywhere else — so nothing a browser there sends, media included,
 * can leave this machine. The other end joins `link`: a bridge (the compose network), or this
 * namespace itself with an address of its own (a test network of two hosts). Needs root.
 *
 * `tag` names the namespace and the interfaces (at most 8 characters: interface names are short).
 */
export function secondMachine(options: {
  tag: string;
  folder: string;
  /** This machine's address with its prefix length, e.g. `10.77.0.2/24`. */
  address: string;
  link: { bridge: string } | { hostAddress: string };
}): SecondMachine {
  const { tag, folder, address, link } = options;
  const namespace = `ringway-${tag}`;
  const [hostEnd, machineEnd] = [`${tag}-h`, `${tag}-m`];
  const remove = () => {
    spawnSync('ip', ['link', 'delete', hostEnd]);
    spawnSync('ip', ['netns', 'delete', namespace]);
  };
  remove(); // what a run that was killed left behind
  ip('netns', 'add', namespace);
  ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', machineEnd);
  ip('link', 'set', machineEnd, 'netns', namespace);
  if ('bridge' in link) ip('link', 'set', hostEnd, 'master', link.bridge);
  else ip('addr', 'add', link.hostAddress, 'dev', hostEnd);
  ip('link', 'set', hostEnd, 'up');
  ip('netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up');
  ip('netns', 'exec', namespace, 'ip', 'addr', 'add', address, 'dev', machineEnd);
  ip('netns', 'exec', namespace, 'ip', 'link', 'set', machineEnd, 'up');
  mkdirSync(folder, { recursive: true });
  const chromium = join(folder, `chromium-on-${tag}`);
  writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${namespace} /usr/bin/chromium "$@"\n`);
  chmodSync(chromium, 0o755);
  return { chromium, remove };
}
