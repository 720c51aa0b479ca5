// Debian's Kamailio running the deployment's own kamailio-config/kamailio.cfg (not a bench
// anchor) on loopback, with the values of kamailio-local.cfg written for one run, as
// test/support/kamailio.ts does for the tests: one node of a DMQ cluster (-A WITH_DMQ) and/or in
// front of Ringway gateways (-A WITH_GATEWAYS, dispatcher set 2). In a process group of its own
// (processes.mjs), stopped by its PID only. BENCH_KAMAILIO_CONFIG names another file to run (e.g.
// a committed version, `git show HEAD:kamailio-config/kamailio.cfg`, while the work tree's is being edited).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './processes.mjs';

const CONFIG =
  process.env.BENCH_KAMAILIO_CONFIG ??
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'kamailio-config', 'kamailio.cfg');

/**
 * Starts a node: `wsPort` (TCP, what start-up waits for) and `udpPort` (plain SIP: the gateways'
 * upstream side and DMQ) on 127.0.0.1; `dmq` = { peers: every node's `127.0.0.1:port`, notify: a
 * peer's }, `gateways` = the gateways' upstream sides (`127.0.0.1:port`, in order of preference)
 * probed every `gatewayPingInterval` s. Resolves with { udp, pid, crash(), start(), restart(), stop() }.
 */
export async function startKamailioNode({
  secret,
  sipDomain,
  wsPort,
  udpPort,
  dmq,
  gateways,
  gatewayPingInterval,
  gatewayTimeoutMs,
  sharedMemoryMb = 128,
}) {
  const folder = mkdtempSync(join(tmpdir(), 'ringway-bench-kamailio-'));
  writeFileSync(join(folder, 'kamailio.cfg'), readFileSync(CONFIG));
  const values = {
    WS_LISTEN: `tcp:127.0.0.1:${wsPort}`,
    UDP_LISTEN: `udp:127.0.0.1:${udpPort}`,
    SIP_DOMAIN: sipDomain,
    AUTH_SECRET: secret,
    ...(gateways ? { DISPATCHER_LIST: join(folder, 'dispatcher.list') } : {}),
    ...(dmq
      ? {
          DMQ_SERVER_ADDRESS: `sip:127.0.0.1:${udpPort}`,
          DMQ_NOTIFICATION_ADDRESS: `sip:${dmq.notify}`,
          DMQ_PEERS: dmq.peers.join(','),
        }
      : {}),
    ...(gatewayPingInterval ? { GATEWAY_PING_INTERVAL: String(gatewayPingInterval) } : {}),
    ...(gatewayTimeoutMs ? { GATEWAY_TIMEOUT: String(gatewayTimeoutMs) } : {}),
  };
  if (gateways) {
    // Set 2, flag 8 (probed), priority in the order given.
    const lines = gateways.map((gateway, i) => `2 sip:${gateway} 8 ${100 - i}`);
    writeFileSync(join(folder, 'dispatcher.list'), `${lines.join('\n')}\n`);
  }
  writeFileSync(
    join(folder, 'kamailio-local.cfg'),
    `${Object.entries(values)
      .map(([name, value]) => `#!substdef "!${name}!${value}!g"`)
      .join('\n')}\n`,
  );
  const args = ['-DD', '-E', '-f', join(folder, 'kamailio.cfg'), '-m', String(sharedMemoryMb), '-M', '16'];
  if (dmq) args.push('-A', 'WITH_DMQ');
  if (gateways) args.push('-A', 'WITH_GATEWAYS');
  const launch = () => startServer('kamailio', args, { port: wsPort });
  let server = await launch();
  return {
    udp: `127.0.0.1:${udpPort}`,
    get pid() {
      return server?.pid;
    },
    /** SIGKILL to the whole group (a crash: nothing cleaned up); resolves once it is gone. */
    async crash() {
      await server?.kill('SIGKILL');
      server = undefined;
    },
    /** Starts it again on the same ports; resolves once its TCP port accepts. */
    async start() {
      server = await launch();
    },
    async stop() {
      await server?.stop();
      server = undefined;
    },
  };
}
