// Loopback ports for tests and benchmarks, in plain JavaScript so that both the TypeScript tests
// and the benchmarks (.mjs) use the same helpers.
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

/** A free loopback TCP port (bound, then released). */
export async function freeTcpPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A loopback UDP port where nothing listens (bound, then released): a server that never answers. */
export async function freeUdpPort() {
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects after `deadline` (epoch ms). */
export function whenAccepting(port, deadline, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 2);
      });
    };
    attempt();
  });
}
