// Debian's Kamailio running the deployment's own kamailio-config/kamailio.cfg (not a bench
// anchor) on loopback, its folder written by kamailio-config/node-config.mjs as for the tests:
// one node of a DMQ cluster (-A WITH_DMQ) and/or in front of Ringway gateways (-A WITH_GATEWAYS,
// dispatcher set 2). In a process group of its own (processes.mjs), stopped by its PID only.
import { writeNodeConfig } from '../../kamailio-config/node-config.mjs';
import { startServer } from './processes.mjs';

/**
 * Starts a node: `wsPort` (TCP, what start-up waits for) and `udpPort` (plain SIP: the gateways'
 * upstream side and DMQ) on `ip` (127.0.0.1 by default); `dmq` = { peers: every node's `127.0.0.1:port`, notify: a
 * peer's }, `gateways` = the gateways' upstream sides (`127.0.0.1:port`, in order of preference)
 * probed every `gatewayPingInterval` s. Resolves with { udp, pid, crash(), start(), restart(), stop() }.
 */
export async function startKamailioNode({
  ip = '127.0.0.1',
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
  const { args } = writeNodeConfig({
    ip,
    secret,
    sipDomain,
    wsPort,
    udpPort,
    dmq,
    gateways,
    gatewayPingInterval,
    gatewayTimeoutMs,
    sharedMemoryMb,
    privateMemoryMb: 16,
  });
  const launch = () => startServer('kamailio', args, { port: wsPort, host: ip });
  let server = await launch();
  return {
    udp: `${ip}:${udpPort}`,
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
