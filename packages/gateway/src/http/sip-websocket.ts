import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { WebSocket } from 'ws';
import type { GatewayConfig } from '../config/config-schema.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Flow } from '../sip/flow.js';
import { parseSipMessage } from '../sip/parser.js';
import type { SipServer } from '../sip/sip-server.js';
import type { FlowTap, SipCapture } from '../sip-capture/sip-capture.js';

/** RFC 6455 §7.4.1 close codes the gateway uses. */
const GOING_AWAY = 1001;
const POLICY_VIOLATION = 1008;
/**
 * Ringway's page closes with this when it goes away for good (softphone phone.ts, on `pagehide`):
 * the 1001 a browser sends itself, which a page may not (it may send 1000 and 3000–4999).
 */
const PAGE_CLOSED = 4001;
/** The close codes of a client that went away and is not coming back on its own. */
const WENT_AWAY = new Set([GOING_AWAY, PAGE_CLOSED]);
/** The close codes counted by name (ringway_ws_closes_total); any other is counted as `other`. */
const COUNTED_CLOSE_CODES = new Set([1000, ...WENT_AWAY, 1005, 1006]);
/**
 * At shutdown, how long a client has to answer the gateway's close frame before its connection is
 * dropped (RFC 6455 §7.1.1 lets the server close TCP itself): ws would wait 30 s, and the server's
 * close with it, past close-with-grace's deadline.
 */
const CLOSE_ANSWER_MS = 1000;

const LOOPBACK_ORIGIN = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/;

/** Whether the page that opens the WebSocket came from this gateway, at the address it was reached at. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

function originAllowed(
  request: FastifyRequest,
  config: GatewayConfig,
  deploymentPages: ReadonlySet<string>,
): boolean {
  const { origin, host } = request.headers;
  // A client without Origin is not a browser page, so there is no cross-site request to guard against.
  if (origin === undefined) return true;
  const allowed = config.allowedOrigins;
  if (allowed.includes('*')) return true;
  if (allowed.length > 0) return allowed.includes(origin);
  // By default: loopback pages, and this gateway's own page wherever it is reached (on a LAN
  // address, behind Docker's publishing) — but the latter only where credentials are required,
  // since a rebound DNS name can make any page "same-origin". Likewise the pages of the
  // deployment's other gateways (WS_SERVERS), whose phones come here when theirs is gone.
  if (LOOPBACK_ORIGIN.test(origin)) return true;
  if (config.allowAnonymous) return false;
  return sameOrigin(origin, host) || deploymentPages.has(origin);
}

/** The origin of the page a gateway serves beside its SIP WebSocket: `ws://h:p/sip` → `http://h:p`. */
function pageOrigin(wsServer: string): string {
  const url = new URL(wsServer);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.origin;
}

/**
 * Whether a frame is a SIP message (a keep-alive CRLF, RFC 5626 §3.5.1, is not one). Asked only
 * until a connection's first message has come, so a message is parsed twice once per connection.
 */
function isSipMessage(message: Buffer | string): boolean {
  try {
    parseSipMessage(message);
    return true;
  } catch {
    return false;
  }
}

function offersSipProtocol(request: FastifyRequest): boolean {
  const offered = request.headers['sec-websocket-protocol'];
  // Exactly `sip` (RFC 7118 §4): subprotocol names are compared case-sensitively (RFC 6455 §4.1),
  // so `SIP` is not it, and the 101 could not name it.
  return (offered ?? '').split(',').some((p) => p.trim() === 'sip');
}

/**
 * Bytes queued for one client that has not read them: past this, the client is not reading and
 * its connection is closed (1008), rather than the gateway holding what it will never take.
 */
const MAX_UNREAD_BYTES = 1 << 20;

function newFlow(
  socket: WebSocket,
  connection: Duplex,
  id: string,
  transport: string,
  remoteAddress: string,
  remotePort: number,
  tap: FlowTap | undefined,
): Flow {
  // Frames sent in one tick leave in one write: the connection is corked at the first and
  // uncorked when the tick's work is done (a proxy often answers and forwards several messages
  // for one it received; a writev each was a third of the gateway's CPU in bench:calls).
  let corked = false;
  const uncork = () => {
    corked = false;
    connection.uncork();
  };
  return {
    id,
    transport,
    remoteAddress,
    remotePort,
    send: (text) => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > MAX_UNREAD_BYTES) {
        socket.terminate();
        return;
      }
      if (!corked) {
        corked = true;
        connection.cork();
        process.nextTick(uncork);
      }
      tap?.sent(text);
      socket.send(text);
    },
    close: (code, reason) => socket.close(code, reason),
  };
}

/**
 * The SIP WebSocket edge (RFC 7118) at `/sip`: refuses handshakes without the `sip`
 * subprotocol or from origins not allowed (connection-limits.ts caps connections); then turns
 * each connection into a flow of the SIP server. One frame is one SIP message; frames above
 * `maxMessageBytes` close the connection with 1009 (ws's maxPayload); a connection whose first
 * SIP message has not come `firstRequestMs` after the upgrade is closed with 1008.
 */
async function sipWebSocket(
  app: FastifyInstance,
  opts: { config: GatewayConfig; sip: SipServer; metrics: GatewayMetrics; capture?: SipCapture },
) {
  const { config, sip, metrics, capture } = opts;
  // Worked out once, not at every upgrade.
  const deploymentPages = new Set(config.wsServers.map(pageOrigin));
  const sockets = new Set<WebSocket>();
  // RFC 6455 §5.5.2 pings: a WebSocket whose previous ping went unanswered is dead (its peer
  // vanished without a FIN, or stopped reading), and is closed.
  const unanswered = new WeakSet<WebSocket>();
  const pinger = setInterval(() => {
    for (const socket of sockets) {
      if (unanswered.has(socket)) {
        socket.terminate();
        continue;
      }
      unanswered.add(socket);
      socket.ping();
    }
  }, config.limits.pingIntervalMs);
  pinger.unref();
  app.addHook('onClose', async () => clearInterval(pinger));
  let nextFlow = 0;
  // Flow ids are flow tokens in the Paths and Record-Routes an upstream keeps (RFC 5626): one of a
  // gateway that restarted must not name somebody else's new connection, so each start has its own.
  const flowPrefix = `f${randomBytes(4).toString('hex')}x`;

  await app.register(websocket, {
    // A client's bad frame (too large, not valid WebSocket) is its mistake, not the gateway's: ws
    // has closed the socket (1009, 1002) and it is logged at debug; anything else is a fault here.
    errorHandler: (error, socket) => {
      const fromClient = (error as { code?: string }).code?.startsWith('WS_ERR_') ?? false;
      app.log[fromClient ? 'debug' : 'error']({ err: error }, 'WebSocket error');
      socket.terminate();
    },
    options: {
      maxPayload: config.maxMessageBytes,
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    },
    preClose: async () => {
      // Graceful shutdown: refuse new calls, give calls being set up a bounded time, then tell
      // every client to reconnect elsewhere (1001 Going Away).
      sip.proxy.drain();
      const deadline = Date.now() + config.timers.shutdownGraceMs;
      while (sip.proxy.busy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const socket of sockets) socket.close(GOING_AWAY, 'gateway shutting down');
      setTimeout(() => {
        for (const socket of sockets) socket.terminate();
      }, CLOSE_ANSWER_MS).unref();
    },
  });

  const refuse = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).send({ error: message });

  app.get(
    '/sip',
    {
      websocket: true,
      preValidation: async (request, reply) => {
        if (!offersSipProtocol(request))
          return refuse(reply, 400, 'WebSocket subprotocol "sip" is required (RFC 7118)');
        if (!originAllowed(request, config, deploymentPages)) {
          request.log.warn({ origin: request.headers.origin }, 'WebSocket origin refused');
          return refuse(reply, 403, 'origin not allowed');
        }
      },
    },
    (socket, request) => {
      // Keep only what the flow needs: a closure over `request` would keep Fastify's request,
      // reply and the upgrade's HTTP objects alive for the life of every connection.
      const address = request.socket.remoteAddress ?? request.ip;
      const transport = request.protocol === 'https' ? 'WSS' : 'WS';
      // The SIP capture (ladder, HEP) sees the flow's messages as they cross the WebSocket.
      const tap = capture?.flowTap({
        transport,
        client: { ip: address, port: request.socket.remotePort ?? 0 },
        gateway: {
          ip: request.socket.localAddress ?? config.host,
          port: request.socket.localPort ?? config.port,
        },
      });
      const flow = newFlow(
        socket,
        request.socket,
        `${flowPrefix}${++nextFlow}`,
        transport,
        address,
        request.socket.remotePort ?? 0,
        tap,
      );
      sockets.add(socket);
      socket.on('pong', () => unanswered.delete(socket));
      sip.attach(flow);
      // The upgrade ended connection-limits' first-request timer; a WebSocket that answers pings
      // but sends no SIP would then hold its descriptor and memory for ever. It has the same time
      // again to send its first SIP message.
      let silent: NodeJS.Timeout | undefined = setTimeout(() => {
        app.log.debug({ flowId: flow.id, remote: address }, 'no SIP message on the WebSocket in time');
        socket.close(POLICY_VIOLATION, 'no SIP message in time');
      }, config.limits.firstRequestMs);
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        // A text frame is read as text once, for the capture and the SIP server alike (ws has
        // checked that it is UTF-8, RFC 6455 §8.1): decoding it again was another copy of every
        // message (issue 28). A binary frame (RFC 7118 §5.3 allows them) goes to the server as
        // bytes, so that its Content-Length counts the bytes that came.
        const text = data.toString('utf8');
        const message = isBinary ? data : text;
        if (silent && isSipMessage(message)) {
          clearTimeout(silent);
          silent = undefined;
        }
        tap?.received(text);
        sip.receive(flow.id, message);
      });
      socket.on('error', (error) => app.log.debug({ err: error, flowId: flow.id }, 'WebSocket error'));
      socket.on('close', (code) => {
        clearTimeout(silent);
        sockets.delete(socket);
        metrics.connectionCloses.inc({ code: COUNTED_CLOSE_CODES.has(code) ? String(code) : 'other' });
        app.log.debug({ flowId: flow.id, code }, 'WebSocket closed');
        if (WENT_AWAY.has(code)) flow.wentAway = true;
        sip.detach(flow.id);
      });
    },
  );
}

export default fp(sipWebSocket, { name: 'sip-websocket' });
