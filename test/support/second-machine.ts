import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './eventually.js';

export interface SecondMachine {
  /** A Chromium executable that runs on this machine (for playwright-core's executablePath). */
  chromium: string;
  remove(): void;
}

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
 * Resolves once the machine's network has settled: Chromium fails whatever it is loading with
 * ERR_NETWORK_CHANGED when an interface's addresses change, and an IPv6 link-local address would
 * arrive a second or two after the link comes up (after duplicate address detection), in the
 * middle of a test's first page load. So neither end of the pair has IPv6 (the test networks
 * are IPv4), and the machine's end is up before a browser starts.
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
  // Interfaces made or moved into the namespace from now on have no IPv6.
  const noIpv6 = 'f=/proc/sys/net/ipv6/conf/default/disable_ipv6; [ ! -e $f ] || echo 1 > $f';
  ip('netns', 'exec', namespace, 'sh', '-c', noIpv6);
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
