// node:http in the start-up snapshot (see deferred-module.cts): its parser binding cannot be
// serialized in Node 20. What dependencies read of it while loading is given here.
import type Http = require('node:http');
import events = require('node:events');
import v8 = require('node:v8');
import deferredModule = require('./deferred-module.cjs');

/** http.STATUS_CODES of the node building the snapshot (bundle.mjs defines it; the same node runs it). */
declare const RINGWAY_HTTP_STATUS_CODES: Record<string, string>;

const load = () => process.getBuiltinModule('node:http');

/**
 * light-my-request (Fastify's inject) makes its Response inherit http.ServerResponse when loaded:
 * it inherits from this one, whose prototype is put on ServerResponse's once the snapshot runs.
 */
function ServerResponse(this: Http.ServerResponse, ...args: [Http.IncomingMessage]) {
  return load().ServerResponse.apply(this, args);
}
if (v8.startupSnapshot.isBuildingSnapshot()) {
  v8.startupSnapshot.addDeserializeCallback(() => {
    Object.setPrototypeOf(ServerResponse.prototype, load().ServerResponse.prototype);
    Object.setPrototypeOf(ServerResponse, load().ServerResponse);
  });
}

/**
 * The server Fastify makes while the snapshot is built (warm-up.ts): it never listens, and
 * answers what Fastify, @fastify/websocket and the gateway's plugins ask of a server that does not.
 */
class ServerThatNeverListens extends events.EventEmitter {
  listening = false;
  keepAliveTimeout = 0;
  requestTimeout = 0;
  maxRequestsPerSocket = 0;
  address() {
    return null;
  }
  setTimeout() {
    return this;
  }
  close(done?: () => void) {
    if (done) process.nextTick(done);
    return this;
  }
  closeIdleConnections() {}
  closeAllConnections() {}
}

const http: typeof Http = deferredModule('node:http', load, {
  STATUS_CODES: RINGWAY_HTTP_STATUS_CODES,
  ServerResponse,
  createServer: () => new ServerThatNeverListens(),
  // ws uses these when Node has them (none does yet); bundle.mjs checks that the building node has not.
  websocketMask: undefined,
  websocketUnmask: undefined,
});
export = http;
