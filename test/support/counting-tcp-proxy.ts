import { connect, createServer, type Socket } from 'node:net';

export interface CountingTcpProxy {
  /** Its own address, `127.0.0.1:port`. */
  address: string;
  /** How many TCP connections it has been offered so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A TCP relay on a free loopback port to `target` (`host:port`) that counts the connections it
 * is offered: the witness that a client tried again, where the client logs only its first failure.
 * It passes bytes untouched, so TLS runs end to end between the client and the target.
 */
export async function countingTcpProxy(target: string): Promise<CountingTcpProxy> {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  let connections = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    connections++;
    const onward = connect(port, host);
    for (const [from, to] of [
      [client, onward],
      [onward, client],
    ] as const) {
      open.add(from);
      from.on('error', () => undefined);
      from.on('close', () => {
        open.delete(from);
        to.destroy();
      });
      from.pipe(to);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
