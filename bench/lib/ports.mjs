// A benchmark refuses to start a server on a port that something else holds: the server would
// fail to bind (Kamailio) or the load would reach the other process (a gateway left over from an
// interrupted run), and the figures would be wrong without a word. The holder is found from
// /proc/net/{tcp,udp}[6] (the socket's inode) and /proc/<pid>/fd (which process has it open).
import { createSocket } from 'node:dgram';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A port a benchmark needs is held by another process. */
export class PortTakenError extends Error {
  constructor(protocol, host, port, holder) {
    super(
      `port ${port} (${protocol.toUpperCase()}, ${host}) is taken${holder ? ` by ${holder}` : ''}: stop that process (or wait until it exits) before running the benchmark`,
    );
    this.name = 'PortTakenError';
    this.protocol = protocol;
    this.port = port;
  }
}

/** Resolves if `port` (TCP, or UDP) can be bound on `host`; otherwise rejects with PortTakenError naming the holder. */
export async function assertPortFree(port, { host = '127.0.0.1', protocol = 'tcp' } = {}) {
  const error = await (protocol === 'udp' ? bindUdp : bindTcp)(port, host);
  if (!error) return;
  if (error.code !== 'EADDRINUSE') throw error;
  throw new PortTakenError(protocol, host, port, await holderOf(protocol, port));
}

// Node sets SO_REUSEADDR on TCP listeners, as the servers do: a port whose last connections are in
// TIME_WAIT binds, one with a listener does not.
function bindTcp(port, host) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', resolve);
    server.listen(port, host, () => server.close(() => resolve(undefined)));
  });
}

function bindUdp(port, host) {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', (error) => {
      socket.close();
      resolve(error);
    });
    socket.bind(port, host, () => socket.close(() => resolve(undefined)));
  });
}

// /proc/net/tcp's `st` column: 0A is LISTEN; a bound UDP socket is 07 (CLOSE).
const BOUND_STATE = { tcp: '0A', udp: '07' };

/** "pid 1234 (kamailio -DD -E -f …)" for the process holding `port`, or undefined if it cannot be seen. */
async function holderOf(protocol, port) {
  const inodes = new Set();
  for (const table of [protocol, `${protocol}6`]) {
    const text = await readFile(`/proc/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const localPort = Number.parseInt(fields[1].split(':')[1], 16);
      if (localPort === port && fields[3] === BOUND_STATE[protocol]) inodes.add(`socket:[${fields[9]}]`);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    // Another user's descriptors cannot be read: that holder stays unnamed.
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      if (!inodes.has(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))) continue;
      const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''))
        .split('\0')
        .filter(Boolean)
        .join(' ');
      return `pid ${pid} (${command.length > 120 ? `${command.slice(0, 117)}…` : command})`;
    }
  }
  return 'a process this user cannot see';
}
