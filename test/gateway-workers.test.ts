import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gatewayCommand } from '../bench/lib/gateway-process.mjs';
import { freeTcpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import type { Phone } from '../packages/gateway/test/support/sipjs.js';
import { eventually } from './support/eventually.js';
import { type RunningKamailio, startKamailio } from './support/kamailio.js';
import { callAndHangUp, ephemeralPhone } from './support/kamailio-phones.js';

// Issue 15 §2: WORKERS gateway processes share the WebSocket port in upstream mode, each with its
// own upstream side; clients on different workers call each other through Kamailio; a worker
// that dies is replaced and the others' calls go on.
const SECRET = 'workers-shared-secret-0123456789';
let kamailio: RunningKamailio;
let gateway: ChildProcess;
let port: number;
let log = '';
const phones: Phone[] = [];

/** The PIDs of the workers that logged their start-up line so far, in order. */
const startedWorkers = () =>
  [...log.matchAll(/"pid":(\d+)[^\n]*"startupMs"/g)].map((match) => Number(match[1]));

/** The PIDs of the workers whose relay logged the upstream up (its first keep-alive answered). */
const upWorkers = () =>
  new Set(
    [...log.matchAll(/"pid":(\d+)[^\n]*"up":true[^\n]*"upstream state"/g)].map((match) => Number(match[1])),
  );

/** Waits until each of `pids` has logged its relay up. */
function relaysUp(pids: number[]): Promise<Set<number>> {
  return eventually(
    upWorkers,
    (up) => pids.every((pid) => up.has(pid)),
    (up) => `relays up in ${[...up].join(', ') || 'no worker'}, not in all of ${pids.join(', ')}: ${log}`,
  );
}

/** Which process holds each established WebSocket connection to the gateway's port (from `ss`). */
function connectionsByPid(): Map<number, number> {
  const ss = spawnSync('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  const counts = new Map<number, number>();
  for (const pid of ss.stdout.matchAll(/pid=(\d+)/g))
    counts.set(Number(pid[1]), (counts.get(Number(pid[1])) ?? 0) + 1);
  return counts;
}

async function phone(user: string): Promise<Phone> {
  const made = await ephemeralPhone(`ws://127.0.0.1:${port}/sip`, SECRET, user);
  phones.push(made);
  return made;
}

beforeAll(async () => {
  kamailio = await startKamailio({ secret: SECRET, sipDomain: 'ringway.test' });
  port = await freeTcpPort();
  const upstreamBase = await freeTcpPort();
  gateway = spawn(process.execPath, gatewayCommand, {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      WORKERS: '2',
      UPSTREAM: `tcp:${new URL(kamailio.wsUrl).host}`,
      UPSTREAM_LOCAL_PORT: String(upstreamBase),
      AUTH_SECRET: SECRET,
      SIP_DOMAIN: 'ringway.test',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout?.on('data', (d) => {
    log += d;
  });
  gateway.stderr?.on('data', (d) => {
    log += d;
  });
  await eventually(
    startedWorkers,
    (pids) => pids.length === 2,
    () => `workers did not start: ${log}`,
  );
  // Each worker's relay is up once its first keep-alive is answered, and says so.
  await relaysUp(startedWorkers());
}, 30_000);

afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop().catch(() => undefined)));
  if (gateway?.exitCode === null) {
    gateway.kill('SIGTERM');
    await new Promise((resolve) => gateway.once('exit', resolve));
  }
  await kamailio?.stop();
});

describe('WORKERS gateway processes in front of Kamailio', () => {
  it('share the port: clients land on both workers and call across them; a killed worker is replaced while the other’s clients keep calling', async () => {
    const [first, second] = startedWorkers() as [number, number];
    const [p0, p1, p2, p3] = [await phone('w0'), await phone('w1'), await phone('w2'), await phone('w3')];
    // Round robin: two connections each.
    expect(Object.fromEntries(connectionsByPid())).toEqual({ [first]: 2, [second]: 2 });
    // Every pair of neighbours, so that calls cross from one worker to the other and back.
    await callAndHangUp(p0, p1, 'w1');
    await callAndHangUp(p1, p2, 'w2');
    await callAndHangUp(p2, p3, 'w3');
    await callAndHangUp(p3, p0, 'w0');

    process.kill(first, 'SIGKILL');
    const replacement = (
      await eventually(
        startedWorkers,
        (pids) => pids.length === 3,
        () => `no worker replaced the killed one: ${log}`,
      )
    )[2] as number;
    // A new client may land on the replacement: its relay must be up first.
    await relaysUp([replacement]);
    // The surviving worker's clients keep their connections and calls; a new client is served too.
    const survivors = await eventually(
      () => [p0, p1, p2, p3].filter((p) => p.ua.transport.isConnected()),
      (connected) => connected.length === 2,
      (connected) => `${connected.length} clients still connected`,
    );
    expect(connectionsByPid().get(second)).toBe(2);
    const [s0, s1] = survivors as [Phone, Phone];
    const user = (p: Phone) => p.ua.configuration.uri.user as string;
    await callAndHangUp(s0, s1, user(s1));
    const fresh = await phone('w4');
    await callAndHangUp(fresh, s0, user(s0));
    await callAndHangUp(s1, fresh, 'w4');
    expect(log).toMatch(/worker ended; starting another/);
  }, 60_000);
});
