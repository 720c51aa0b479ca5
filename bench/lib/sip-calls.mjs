// Calls at the SIP level between WebSocket clients, for `npm run bench:calls`: each pair is a
// caller and a callee connection, registered as cr<i> and ce<i>. The caller sends an INVITE with
// a real Chromium offer; the callee answers 180 then 200 with Chromium's answer; the caller
// ACKs and hangs up with a BYE along the dialog's route set; then the next call. No media.
import { readFileSync } from 'node:fs';
import { authorizationLine, keepChallenge } from './sip-auth.mjs';
import { open, percentile } from './sip-load.mjs';

const fixture = (name) =>
  readFileSync(new URL(`../../packages/sdp/test/fixtures/${name}`, import.meta.url), 'utf8').replace(
    /\r?\n/g,
    '\r\n',
  );
export const OFFER = fixture('chromium-audio-offer.sdp');
const ANSWER = fixture('chromium-audio-answer.sdp');
const CALL_TIMEOUT_MS = 5000;

/** The few parts of a SIP message a UA needs here: first line, and header values by lower-case name. */
export function parse(text) {
  const end = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, end === -1 ? text.length : end).split('\r\n');
  const headers = new Map();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const list = headers.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(name, list);
  }
  return { start: lines[0], headers, rawHeaders: lines.slice(1) };
}

export const one = (message, name) => message.headers.get(name)?.[0] ?? '';
/** Record-Route values, one per hop, whether on separate lines or comma-joined on one. */
const recordRoutes = (message) =>
  (message.headers.get('record-route') ?? []).flatMap((v) => v.split(/,(?=\s*<)/).map((r) => r.trim()));
const uriOf = (nameAddr) => /<([^>]+)>/.exec(nameAddr)?.[1] ?? nameAddr.split(';')[0];

export function build(startLine, headerLines, body = '') {
  return [startLine, ...headerLines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

/** A response to `request` with `status`, copying what RFC 3261 §8.2.6 says to copy. */
export function respond(request, status, reason, { toTag, extra = [], body = '' } = {}) {
  const copied = request.rawHeaders.filter((line) => /^(via|from|call-id|cseq|record-route)\s*:/i.test(line));
  const to = one(request, 'to');
  const toLine = `To: ${toTag && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to}`;
  return build(`SIP/2.0 ${status} ${reason}`, [...copied, toLine, ...extra], body);
}

let branches = 0;
export const branch = () => `z9hG4bKbench${process.pid}x${++branches}`;

/**
 * Registers `user` on `socket` and resolves once it is answered 200; with `credential`
 * ({ username, password }) it answers a 401 challenge once.
 */
export function registerUser(socket, user, host, index, credential) {
  return new Promise((resolve, reject) => {
    let cseq = 0;
    const send = (extra = []) => {
      cseq += 1;
      socket.send(
        build(`REGISTER sip:${host} SIP/2.0`, [
          `Via: SIP/2.0/WS r${index}.invalid;branch=${branch()}`,
          'Max-Forwards: 70',
          `To: <sip:${user}@${host}>`,
          `From: <sip:${user}@${host}>;tag=r${index}`,
          `Call-ID: bench-register-${user}`,
          `CSeq: ${cseq} REGISTER`,
          `Contact: <sip:${user}@${user}.invalid;transport=ws>;expires=600`,
          'Expires: 600',
          ...extra,
        ]),
      );
    };
    const onMessage = (data) => {
      const text = data.toString();
      if (text.startsWith('SIP/2.0 1')) return;
      if (text.startsWith('SIP/2.0 401') && credential && cseq === 1) {
        const kept = keepChallenge(text, credential);
        if (kept) return send([authorizationLine(kept, 'REGISTER', `sip:${host}`)]);
      }
      socket.off('message', onMessage);
      if (text.startsWith('SIP/2.0 200')) resolve();
      else reject(new Error(`REGISTER ${user}: ${text.split('\r\n')[0]}`));
    };
    socket.on('message', onMessage);
    send();
  });
}

/** The callee's side: answers every INVITE 180 then 200 (with an answer), every BYE 200. */
function answerCalls(socket, user) {
  let tags = 0;
  socket.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith('SIP/2.0')) return;
    const request = parse(text);
    const method = request.start.split(' ')[0];
    if (method === 'INVITE') {
      const toTag = `t${++tags}`;
      socket.send(respond(request, 180, 'Ringing', { toTag }));
      socket.send(
        respond(request, 200, 'OK', {
          toTag,
          extra: [`Contact: <sip:${user}@${user}.invalid;transport=ws>`, 'Content-Type: application/sdp'],
          body: ANSWER,
        }),
      );
    } else if (method === 'BYE') {
      socket.send(respond(request, 200, 'OK'));
    }
  });
}

/**
 * `pairs` caller/callee pairs calling in a closed loop for `seconds` after a warm-up second:
 * calls/s (completed BYE→200 in the window), p50/p99 of INVITE→200 and BYE→200, failures (a
 * final answer other than 200, or none within 5 s), and with `cpuOfServer` (microseconds used
 * so far) the server's CPU per completed call over the same window. Options for a cluster:
 * `users` prefixes the user names (cr<i>, ce<i>) so that several storms share one registrar,
 * `calleeUrl` connects the callees elsewhere (another gateway), and `credential` (user →
 * { username, password }) answers the registrar's and the proxy's challenges: each caller keeps
 * its INVITE's first 407 challenge and answers its next INVITEs at once (sip-auth.mjs).
 * `callsPerSecond` paces the storm instead: each pair starts a call at even intervals (or when
 * its last one ends, if later), so that two servers can be compared at the same call rate.
 */
export async function callStorm(
  url,
  host,
  {
    pairs = 25,
    seconds = 10,
    warmupSeconds = 1,
    cpuOfServer,
    users = '',
    calleeUrl = url,
    credential,
    callsPerSecond,
  } = {},
) {
  // Paced: each pair starts its calls at even intervals (none sooner than its last call ended).
  const pairIntervalMs = callsPerSecond ? (1000 * pairs) / callsPerSecond : 0;
  const callers = await Promise.all(Array.from({ length: pairs }, () => open(url)));
  const callees = await Promise.all(Array.from({ length: pairs }, () => open(calleeUrl)));
  const callee = (i) => `${users}ce${i}`;
  const caller = (i) => `${users}cr${i}`;
  await Promise.all(
    callees.map((socket, i) => registerUser(socket, callee(i), host, i, credential?.(callee(i)))),
  );
  await Promise.all(
    callers.map((socket, i) => registerUser(socket, caller(i), host, pairs + i, credential?.(caller(i)))),
  );
  for (const [i, socket] of callees.entries()) answerCalls(socket, callee(i));

  const inviteMs = [];
  const byeMs = [];
  let completed = 0;
  let failures = 0;
  let measuring = false;
  let running = true;
  const loops = callers.map(
    (socket, i) =>
      new Promise((resolve) => {
        let call = 0;
        let callId = '';
        let phase = 'idle';
        let sentAt = 0;
        let timer;
        let cseq = 1;
        let inviteBranch = '';
        const from = `<sip:${caller(i)}@${host}>`;
        const target = `sip:${callee(i)}@${host}`;
        const ownCredential = credential?.(caller(i));
        let kept;
        // Pairs start spread over one interval, so that paced calls do not come in waves.
        let due = performance.now() + (pairIntervalMs * i) / pairs;
        const invite = () => {
          inviteBranch = branch();
          socket.send(
            build(
              `INVITE ${target} SIP/2.0`,
              [
                `Via: SIP/2.0/WS ${caller(i)}.invalid;branch=${inviteBranch}`,
                'Max-Forwards: 70',
                `To: <${target}>`,
                `From: ${from};tag=f${i}x${call}`,
                `Call-ID: ${callId}`,
                `CSeq: ${cseq} INVITE`,
                `Contact: <sip:${caller(i)}@${caller(i)}.invalid;transport=ws>`,
                ...(kept ? [authorizationLine(kept, 'INVITE', target)] : []),
                'Content-Type: application/sdp',
              ],
              OFFER,
            ),
          );
        };
        const next = () => {
          clearTimeout(timer);
          // Until the next call starts (paced, it may wait), no late answer belongs to a call.
          phase = 'idle';
          if (!running) return resolve();
          if (pairIntervalMs > 0) {
            const wait = due - performance.now();
            due = Math.max(due, performance.now()) + pairIntervalMs;
            if (wait > 0) {
              timer = setTimeout(start, wait);
              return;
            }
          }
          start();
        };
        const start = () => {
          if (!running) return resolve();
          call += 1;
          cseq = 1;
          callId = `bench-call-${process.pid}-${i}-${call}`;
          phase = 'inviting';
          sentAt = performance.now();
          timer = setTimeout(() => {
            if (measuring) failures += 1;
            next();
          }, CALL_TIMEOUT_MS);
          invite();
        };
        socket.on('message', (data) => {
          const text = data.toString();
          if (!text.startsWith('SIP/2.0 ')) return;
          const status = Number(text.slice(8, 11));
          if (status < 200) return;
          const response = parse(text);
          // A late answer to a call given up on belongs to no call now.
          if (one(response, 'call-id') !== callId) return;
          const method = one(response, 'cseq').split(' ')[1];
          if (method === 'INVITE' && phase === 'inviting') {
            // A challenge: ACK it (same branch, RFC 3261 §17.1.1.3), answer it once with CSeq + 1.
            if (status === 407 && ownCredential && cseq === 1) {
              const fresh = keepChallenge(text, ownCredential);
              if (fresh) {
                kept = fresh;
                socket.send(
                  build(`ACK ${target} SIP/2.0`, [
                    `Via: SIP/2.0/WS ${caller(i)}.invalid;branch=${inviteBranch}`,
                    'Max-Forwards: 70',
                    `To: ${one(response, 'to')}`,
                    `From: ${from};tag=f${i}x${call}`,
                    `Call-ID: ${callId}`,
                    'CSeq: 1 ACK',
                  ]),
                );
                cseq = 2;
                return invite();
              }
            }
            if (status !== 200) {
              if (measuring) failures += 1;
              return next();
            }
            if (measuring) inviteMs.push(performance.now() - sentAt);
            // The dialog: route set from Record-Route (reversed at the caller), target from Contact.
            const routes = recordRoutes(response)
              .reverse()
              .map((r) => `Route: ${r}`);
            const remote = uriOf(one(response, 'contact'));
            const dialog = [
              'Max-Forwards: 70',
              ...routes,
              `To: ${one(response, 'to')}`,
              `From: ${from};tag=f${i}x${call}`,
              `Call-ID: ${callId}`,
            ];
            socket.send(
              build(`ACK ${remote} SIP/2.0`, [
                `Via: SIP/2.0/WS ${caller(i)}.invalid;branch=${branch()}`,
                ...dialog,
                `CSeq: ${cseq} ACK`,
              ]),
            );
            phase = 'hanging-up';
            sentAt = performance.now();
            socket.send(
              build(`BYE ${remote} SIP/2.0`, [
                `Via: SIP/2.0/WS ${caller(i)}.invalid;branch=${branch()}`,
                ...dialog,
                `CSeq: ${cseq + 1} BYE`,
              ]),
            );
          } else if (method === 'BYE' && phase === 'hanging-up') {
            if (measuring) {
              if (status === 200) {
                byeMs.push(performance.now() - sentAt);
                completed += 1;
              } else failures += 1;
            }
            next();
          }
        });
        socket.on('close', () => resolve());
        next();
      }),
  );
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  measuring = true;
  const cpuBefore = await cpuOfServer?.();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const cpuUs = cpuOfServer ? (await cpuOfServer()) - cpuBefore : Number.NaN;
  running = false;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, CALL_TIMEOUT_MS + 1000))]);
  for (const socket of [...callers, ...callees]) socket.terminate();
  inviteMs.sort((a, b) => a - b);
  byeMs.sort((a, b) => a - b);
  return {
    perSecond: completed / elapsed,
    cpuUsPerCall: cpuUs / Math.max(1, completed),
    invite: { p50: percentile(inviteMs, 50), p99: percentile(inviteMs, 99) },
    bye: { p50: percentile(byeMs, 50), p99: percentile(byeMs, 99) },
    failures,
  };
}
