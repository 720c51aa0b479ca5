import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayConfig } from '../config/config-schema.js';

/** What a connection past the per-address limit is told before it is closed. */
const TOO_MANY =
  'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 10\r\nContent-Type: text/plain\r\nContent-Length: 41\r\nConnection: close\r\n\r\ntoo many connections from this address\r\n\r\n';

/**
 * How long a connection has to begin its request once the gateway is closing (and then be told
 * 503, as Fastify answers every request while it closes). Node's server.close() waits for every
 * connection that has not made a request, a browser's preconnected socket too: left at
 * `firstRequestMs` (10 s) one such socket outlasts close-with-grace (grace + 2 s), and the
 * process exits 1.
 */
const CLOSING_FIRST_REQUEST_MS = 1000;

/**
 * Limits on raw TCP connections, before HTTP or WebSocket know of them: at most
 * `connectionsPerIp` open connections per client address (the map holds only addresses with a
 * connection open now), and a connection that has not begun a request (or an upgrade) within
 * `firstRequestMs` is closed — an idle socket costs a descriptor and memory and proves nothing.
 * From the first request on, Node's own timeouts (headers, keep-alive) and the WebSocket's
 * pings take over. While the gateway closes, that time is CLOSING_FIRST_REQUEST_MS at most.
 */
async function connectionLimits(app: FastifyInstance, opts: { config: GatewayConfig }) {
  const { connectionsPerIp, firstRequestMs } = opts.config.limits;
  const perAddress = new Map<string, number>();
  // By the connection's remote address and port: over HTTPS the request's socket is the TLS
  // socket wrapped around the TCP one seen here, and carries the same pair. Entries live only
  // while a connection is open and waiting, so the map is bounded by the connection limit.
  const waiting = new Map<string, { socket: Socket; timer: NodeJS.Timeout }>();
  const peer = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  const stopWaiting = (key: string) => {
    clearTimeout(waiting.get(key)?.timer);
    waiting.delete(key);
  };
  const wait = (key: string, socket: Socket, ms: number) => {
    stopWaiting(key);
    const timer = setTimeout(() => socket.destroy(), ms);
    timer.unref();
    waiting.set(key, { socket, timer });
  };
  const started = (socket: Socket) => stopWaiting(peer(socket));
  let firstRequestWithinMs = firstRequestMs;
  app.addHook('preClose', async () => {
    firstRequestWithinMs = Math.min(firstRequestMs, CLOSING_FIRST_REQUEST_MS);
    // A copy: wait() files each entry again, and a Map's iterator would visit it again.
    for (const [key, { socket }] of [...waiting]) wait(key, socket, firstRequestWithinMs);
  });

  app.server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const open = perAddress.get(address) ?? 0;
    if (open >= connectionsPerIp) {
      socket.end(TOO_MANY);
      socket.destroySoon();
      return;
    }
    perAddress.set(address, open + 1);
    // Taken now: a closed socket no longer knows its peer.
    const key = peer(socket);
    wait(key, socket, firstRequestWithinMs);
    socket.once('close', () => {
      stopWaiting(key);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
  // A Fastify hook rather than the server's 'request' and 'upgrade' events: a listener on
  // 'upgrade' that is not @fastify/websocket's keeps Node from handing an upgrade to Fastify once
  // that plugin has removed its own at shutdown, so the upgrade got no answer (not the 503 every
  // request gets while closing) and held app.close() until close-with-grace exited 1.
  app.addHook('onRequest', async (request) => started(request.raw.socket as Socket));
}

export default fp(connectionLimits, { name: 'connection-limits' });
