import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';

export interface SecondMachine {
  /** A Chromium executable that runs on this machine (for playwright-core's executablePath). */
  chromium: string;
  remove(): void;
}

/** Turns IPv6 off for the links a namespace gets from then on (the script says why). */
const WITHOUT_IPV6_LINKS = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'scripts',
  'without-ipv6-links.sh',
);

function ip(...args: string[]): string {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

/**
 * "Another machine" for browsers: a network namespace whose only interfaces are `lo` and one end
 * of a veth pair, with no route anywhere else — so nothing a browser there sends, media included,
 * can leave this machine. The other end joins `link`: a bridge (the compose network), or this
 * namespace itself with an address of its own (a test network of two hosts). Needs root.
 *
 * `tag` names the namespace and the interfaces (at most 8 characters: interface names are short).
 *
 * Resolves once the machine's network has settled, so that no address changes under a browser's
 * first page load (Chromium fails it with ERR_NETWORK_CHANGED): neither end of the pair has IPv6
 * (scripts/without-ipv6-links.sh), and the machine's end is up.
 */
export async function secondMachine(options: {
  tag: string;
  folder: string;
  /** This machine's address with its prefix length, e.g. `10.77.0.2/24`. */
  address: string;
  link: { bridge: string } | { hostAddress: string };
}): Promise<SecondMachine> {
  const { tag, folder, address, link } = options;
  const namespace = `ringway-${tag}`;
  const [hostEnd, machineEnd] = [`${tag}-h`, `${tag}-m`];
  const remove = () => {
    spawnSync('ip', ['link', 'delete', hostEnd]);
    spawnSync('ip', ['netns', 'delete', namespace]);
  };
  remove(); // what a run that was killed left behind
  ip('netns', 'add', namespace);
  ip('netns', 'exec', namespace, 'sh', WITHOUT_IPV6_LINKS);
  ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', machineEnd);
  const hostEndIpv6 = `/proc/sys/net/ipv6/conf/${hostEnd}/disable_ipv6`;
  if (existsSync(hostEndIpv6)) writeFileSync(hostEndIpv6, '1');
  ip('link', 'set', machineEnd, 'netns', namespace);
  if ('bridge' in link) ip('link', 'set', hostEnd, 'master', link.bridge);
  else ip('addr', 'add', link.hostAddress, 'dev', hostEnd);
  ip('link', 'set', hostEnd, 'up');
  ip('netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up');
  ip('netns', 'exec', namespace, 'ip', 'addr', 'add', address, 'dev', machineEnd);
  ip('netns', 'exec', namespace, 'ip', 'link', 'set', machineEnd, 'up');
  await eventually(
    () => ip('netns', 'exec', namespace, 'ip', '-o', 'link', 'show', 'dev', machineEnd),
    (link) => / state UP /.test(link),
    (link) => `${machineEnd} did not come up: ${link}`,
  );
  mkdirSync(folder, { recursive: true });
  const chromium = join(folder, `chromium-on-${tag}`);
  writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${namespace} /usr/bin/chromium "$@"\n`);
  chmodSync(chromium, 0o755);
  return { chromium, remove };
}
