// Debian's Kamailio running the deployment's own kamailio-config/kamailio.cfg (not a bench
// anchor) on loopback, its folder written by kamailio-config/node-config.mjs as for the tests:
// one node of a DMQ cluster (-A WITH_DMQ) and/or in front of Ringway gateways (-A WITH_GATEWAYS,
// dispatcher set 2). In a process group of its own (processes.mjs), stopped by its PID only, and
// refused if its WebSocket or UDP port is taken.
import { writeNodeConfig } from '../../kamailio-config/node-config.mjs';
import { startServer } from './processes.mjs';

/**
 * Starts a node with writeNodeConfig's options (`ip`, 127.0.0.1 by default; `wsPort`, what
 * start-up waits for; `udpPort`, the gateways' upstream side and DMQ; `dmq`, `gateways`…).
 * Resolves with { udp, pid, crash(), start(), stop() }.
 */
export async function startKamailioNode(options) {
  const { ip = '127.0.0.1', wsPort, udpPort } = options;
  const { args } = writeNodeConfig({ sharedMemoryMb: 128, privateMemoryMb: 16, ...options, ip });
  const launch = () => startServer('kamailio', args, { port: wsPort, host: ip, udpPorts: [udpPort] });
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
