import WebSocket from 'ws';
import { authorizationLine, keepChallenge } from './sip-auth.mjs';

function register(user, host, cseq, connection, extra = []) {
  // One Call-ID per user: Kamailio refuses a CSeq below the last it saw for a Call-ID.
  return [
    `REGISTER sip:${host} SIP/2.0`,
    `Via: SIP/2.0/WS c${connection}.invalid;branch=z9hG4bK${connection}x${cseq}`,
    'Max-Forwards: 70',
    `To: <sip:${user}@${host}>`,
    `From: <sip:${user}@${host}>;tag=${connection}`,
    `Call-ID: bench-${user}`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${user}@c${connection}.invalid;transport=ws>;expires=600`,
    'Expires: 600',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A SIP WebSocket (subprotocol `sip`) to `url`, once open. */
export function open(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'sip', { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The `p`th percentile of an ascending list. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * A bounded REGISTER storm: `connections` WebSockets, each sending its next REGISTER as soon as
 * the previous one is answered (closed loop), for `seconds` after a warm-up second. Users are
 * `<users><index>`: give each storm against one registrar its own. With `sampleCpu` (CPU
 * microseconds used so far, by server name) it gives each server's CPU per answered REGISTER
 * over the measured window. With `credential` (user → { username, password }) each connection
 * answers the registrar's first challenge and keeps it for its next REGISTERs (sip-auth.mjs): a
 * challenge answered is neither a completed REGISTER nor a failure.
 */
export async function registerStorm(
  url,
  host,
  { connections = 50, seconds = 10, warmupSeconds = 1, users = 'load', sampleCpu, credential } = {},
) {
  const sockets = await Promise.all(Array.from({ length: connections }, () => open(url)));
  const latencies = [];
  let failures = 0;
  let measuring = false;
  let running = true;
  const loops = sockets.map(
    (socket, index) =>
      new Promise((resolve) => {
        let cseq = 0;
        let sentAt = 0n;
        const user = `${users}${index}`;
        const ownCredential = credential?.(user);
        let kept;
        const send = () => {
          cseq += 1;
          const auth = kept ? [authorizationLine(kept, 'REGISTER', `sip:${host}`)] : [];
          socket.send(register(user, host, cseq, index, auth));
        };
        const next = () => {
          if (!running) return resolve();
          sentAt = process.hrtime.bigint();
          send();
        };
        socket.on('message', (data) => {
          const text = data.toString();
          if (text.startsWith('SIP/2.0 1')) return;
          if (ownCredential && text.startsWith('SIP/2.0 401')) {
            const fresh = keepChallenge(text, ownCredential);
            // A second challenge in a row (its answer refused) is a failure, not a loop.
            if (fresh && !kept?.answered) {
              kept = { ...fresh, answered: true };
              if (running) return send();
              return resolve();
            }
          }
          if (kept) kept.answered = false;
          if (measuring) {
            if (text.startsWith('SIP/2.0 200'))
              latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
            else failures += 1;
          }
          next();
        });
        socket.on('close', () => resolve());
        next();
      }),
  );
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  measuring = true;
  const cpuBefore = await sampleCpu?.();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = await sampleCpu?.();
  running = false;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2000))]);
  for (const socket of sockets) socket.terminate();
  latencies.sort((a, b) => a - b);
  const cpuUsPerRegister = Object.fromEntries(
    Object.entries(cpuAfter ?? {}).map(([name, us]) => [
      name,
      (us - cpuBefore[name]) / Math.max(1, latencies.length),
    ]),
  );
  return {
    perSecond: latencies.length / elapsed,
    cpuUsPerRegister,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures,
  };
}

/** Opens `count` WebSockets that each register once and stay open; resolves with them. */
export async function registerMany(url, host, count, concurrency = 200) {
  const sockets = [];
  let nextIndex = 0;
  let failures = 0;
  const worker = async () => {
    while (nextIndex < count) {
      const index = nextIndex++;
      const socket = await open(url);
      await new Promise((resolve) => {
        socket.once('message', (data) => {
          if (!data.toString().startsWith('SIP/2.0 200')) failures += 1;
          resolve();
        });
        socket.send(register(`idle${index}`, host, 1, 100000 + index));
      });
      sockets.push(socket);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sockets, failures };
}
