// A bare Node relay for bench:calls' messages: the floor under any SIP server written on Node and
// ws, as the gateway is. It takes the same WebSocket connections (ws, subprotocol sip), decodes
// each frame as the gateway does, and does only what the storm needs to complete its calls: a
// REGISTER answered 200, a request sent on to the connection its Request-URI's user registered
// from, a response sent back to the connection its call came from. No parsing beyond three
// lookups, no Via, no Record-Route, no transaction, no authentication, no codec policy, no
// capture: what is left is Node's and ws's own cost per message, and the kernel's (issue 28).
// Run as a process of its own: `node bench/lib/bare-ws-relay.mjs <port>`.
import { WebSocketServer } from 'ws';
import { one, parse, respond } from './sip-calls.mjs';

const port = Number(process.argv[2]);
/** The connection each user registered from, and the caller's connection of each call in progress. */
const users = new Map();
const callers = new Map();

/** The value of header `name` (as the storm writes it: `Name: value`, one per line). */
function headerValue(text, name) {
  const at = text.indexOf(`\r\n${name}: `);
  if (at === -1) return '';
  const start = at + name.length + 4;
  return text.slice(start, text.indexOf('\r\n', start));
}

/** The user part of a `sip:user@host` URI at `from` in `text`. */
function userAt(text, from) {
  const start = text.indexOf('sip:', from) + 4;
  return text.slice(start, text.indexOf('@', start));
}

/** A REGISTER (before the measured window): its user is reached on this connection from now on. */
function registered(text, socket) {
  const request = parse(text);
  users.set(userAt(one(request, 'to'), 0), socket);
  socket.send(respond(request, 200, 'OK', { extra: [`Contact: ${one(request, 'contact')}`] }));
}

const server = new WebSocketServer({
  port,
  host: '127.0.0.1',
  handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
});
server.on('connection', (socket) => {
  socket.on('message', (data) => {
    const text = data.toString('utf8');
    if (text.startsWith('SIP/2.0 ')) {
      const callId = headerValue(text, 'Call-ID');
      callers.get(callId)?.send(text);
      if (Number(text.slice(8, 11)) >= 200 && headerValue(text, 'CSeq').endsWith('BYE'))
        callers.delete(callId);
      return;
    }
    if (text.startsWith('REGISTER ')) return registered(text, socket);
    if (text.startsWith('INVITE ')) callers.set(headerValue(text, 'Call-ID'), socket);
    users.get(userAt(text, 0))?.send(text);
  });
});
server.on('listening', () => console.log(`bare ws relay on ${port}`));
