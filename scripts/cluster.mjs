// `npm run cluster`: the cluster layout of docker-compose.cluster.yml as processes on this machine,
// from Debian's Kamailio and the gateway bundle: two Kamailio nodes (127.0.0.2 and 127.0.0.3,
// DMQ, the gateways as dispatcher set 2) and two gateways (pages on http://127.0.0.1:8080 and
// :8081, each preferring one node, each other's peer). Users: USERS_FILE (default
// data/cluster/users.json; add people with `USERS_FILE=… npm run user -- add alice`). Loopback only:
// a demonstration and a place to try failures (kill a gateway or a node by the PIDs it prints).
// Ctrl-C stops everything it started.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayCommand } from '../bench/lib/gateway-process.mjs';
import { startKamailioNode } from '../bench/lib/kamailio-node.mjs';
import { startServer } from '../bench/lib/processes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const secret = process.env.AUTH_SECRET ?? randomBytes(24).toString('base64url');
const sipDomain = process.env.SIP_DOMAIN ?? 'ringway.local';
const usersFile = process.env.USERS_FILE ?? join(root, 'data', 'cluster', 'users.json');
mkdirSync(dirname(usersFile), { recursive: true });

const nodes = [
  { ip: '127.0.0.2', udpPort: 5060, wsPort: 8089 },
  { ip: '127.0.0.3', udpPort: 5060, wsPort: 8089 },
];
const gateways = [
  { port: 8080, upstreamPort: 5070 },
  { port: 8081, upstreamPort: 5072 },
];
const upstreamSide = (gateway) => `127.0.0.1:${gateway.upstreamPort}`;
const nodeAddress = (node) => `${node.ip}:${node.udpPort}`;
// Every process started here is stopped on Ctrl-C, SIGTERM or a failure by bench/lib's cleanup
// (bench/lib/cleanup.mjs), which each start registers with.

try {
  for (const [i, node] of nodes.entries()) {
    const other = nodes[(i + 1) % nodes.length];
    const running = await startKamailioNode({
      secret,
      sipDomain,
      ip: node.ip,
      wsPort: node.wsPort,
      udpPort: node.udpPort,
      dmq: { peers: nodes.map(nodeAddress), notify: nodeAddress(other) },
      gateways: gateways.map(upstreamSide),
    });
    console.log(`kamailio ${nodeAddress(node)} (DMQ, gateways as set 2): pid ${running.pid}`);
  }
  for (const [i, gateway] of gateways.entries()) {
    // Each prefers another node, and takes over the dialogs of the other gateway.
    const upstream = [...nodes.slice(i), ...nodes.slice(0, i)].map(nodeAddress).join(',');
    const server = await startServer(process.execPath, gatewayCommand, {
      port: gateway.port,
      env: {
        PORT: String(gateway.port),
        UPSTREAM: upstream,
        UPSTREAM_LOCAL_PORT: String(gateway.upstreamPort),
        UPSTREAM_KEEPALIVE_MS: '500',
        PEER_GATEWAYS: gateways
          .filter((other) => other !== gateway)
          .map(upstreamSide)
          .join(','),
        WS_SERVERS: gateways.map((g) => `ws://127.0.0.1:${g.port}/sip`).join(','),
        SIP_DOMAIN: sipDomain,
        AUTH_SECRET: secret,
        USERS_FILE: usersFile,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
    });
    console.log(`gateway http://127.0.0.1:${gateway.port}/ (upstream ${upstream}): pid ${server.pid}`);
  }
  console.log(`users: ${usersFile} (USERS_FILE=${usersFile} npm run user -- add alice). Ctrl-C stops.`);
} catch (error) {
  console.error(`cluster: ${error.message}`);
  // (Exiting SIGKILLs what was started so far: bench/lib/cleanup.mjs.)
  process.exit(1);
}
