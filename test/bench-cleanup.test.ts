import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { assertPortFree } from '../bench/lib/ports.mjs';
import { groupAlive } from '../bench/lib/processes.mjs';
import { freeTcpPort, freeUdpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { eventually } from './support/eventually.js';
import { ProcessOutput } from './support/process-output.js';

// Issue 28: a benchmark stops what it started — Kamailio and its workers, gateways, the measured
// gateway of fuzz and soak, Chromium — when it is interrupted (SIGINT, SIGTERM), when it fails (an
// uncaught exception, an unhandled rejection) and when it exits without stopping them; and it
// refuses to start on a port that something else holds. test/support/bench-cleanup-run.mjs is the
// benchmark: it starts them all through bench/lib, says `ready` with the process groups its
// children lead, and ends as told.
const RUN = join(dirname(fileURLToPath(import.meta.url)), 'support', 'bench-cleanup-run.mjs');

type Group = { pid: number; pgid: number; name: string };
type End = 'wait' | 'throw' | 'reject' | 'exit';

async function startRun(end: End, ports?: { kamailioWs: number; kamailioUdp: number; gateway: number }) {
  const chosen = ports ?? {
    kamailioWs: await freeTcpPort(),
    kamailioUdp: await freeUdpPort(),
    gateway: await freeTcpPort(),
  };
  const measured = await freeTcpPort();
  const child = spawn(
    process.execPath,
    [
      RUN,
      JSON.stringify({
        kamailio: { wsPort: chosen.kamailioWs, udpPort: chosen.kamailioUdp },
        gatewayPort: chosen.gateway,
        measuredPort: measured,
        browser: true,
        end,
      }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = new ProcessOutput('the benchmark');
  let printed = '';
  const append = (chunk: Buffer) => {
    printed += chunk;
    output.append(chunk);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const tcpPorts = [chosen.kamailioWs, chosen.gateway, measured];
  return { child, output, exited, printed: () => printed, tcpPorts, udpPorts: [chosen.kamailioUdp] };
}

type Run = Awaited<ReturnType<typeof startRun>>;

/** The process groups the run's children lead, once it says `ready`; fails at once if it exits before. */
async function groupsOf(run: Run): Promise<Group[]> {
  const line = await Promise.race([
    // (Kamailio, two gateways and Chromium starting on a busy 2-core machine: allow a minute.)
    run.output.printed(/^ready .*$/m, 60_000),
    run.exited.then((code) => {
      throw new Error(`the benchmark exited (${code}) before it was ready:\n${run.printed()}`);
    }),
  ]);
  return JSON.parse(line.slice('ready '.length)) as Group[];
}

async function aliveGroups(groups: Group[]): Promise<Group[]> {
  const alive = [];
  for (const group of groups) if (await groupAlive(group.pgid)) alive.push(group);
  return alive;
}

async function expectPortsFree(tcpPorts: number[], udpPorts: number[]) {
  for (const port of tcpPorts) await assertPortFree(port);
  for (const port of udpPorts) await assertPortFree(port, { protocol: 'udp' });
}

const kill = (child: ChildProcess, signal: NodeJS.Signals) => {
  if (child.exitCode === null) child.kill(signal);
};

describe('a benchmark interrupted or failing', () => {
  it.each([
    { cause: 'SIGINT', end: 'wait', code: 130 },
    { cause: 'SIGTERM', end: 'wait', code: 143 },
    { cause: 'an uncaught exception', end: 'throw', code: 1 },
    { cause: 'an unhandled rejection', end: 'reject', code: 1 },
  ] as const)(
    'stops every server and browser it started on $cause, then exits $code',
    async ({ cause, end, code }) => {
      const run = await startRun(end);
      try {
        const groups = await groupsOf(run);
        expect(groups.map((g) => g.name).sort()).toEqual(['chromium', 'kamailio', 'node', 'node']);
        if (end === 'wait') run.child.kill(cause as NodeJS.Signals);
        expect(await run.exited).toBe(code);
        // Stopping is done when the benchmark has exited: nothing of it is left, at once.
        expect(await aliveGroups(groups)).toEqual([]);
        await expectPortsFree(run.tcpPorts, run.udpPorts);
      } finally {
        kill(run.child, 'SIGKILL');
      }
    },
    120_000,
  );

  it('SIGKILLs every process group it started when it exits without stopping them', async () => {
    const run = await startRun('exit');
    try {
      const groups = await groupsOf(run);
      expect(await run.exited).toBe(0);
      // SIGKILL is sent as the benchmark exits; the kernel takes the processes down just after.
      await eventually(
        () => aliveGroups(groups),
        (alive) => alive.length === 0,
        (alive) => `still running after the benchmark exited: ${JSON.stringify(alive)}`,
      );
      await expectPortsFree(run.tcpPorts, run.udpPorts);
    } finally {
      kill(run.child, 'SIGKILL');
    }
  }, 120_000);
});

describe('a benchmark whose port is taken', () => {
  it('refuses to start, naming the port and the process holding it, and stops what it had started', async () => {
    const holder: Server = createServer();
    const gateway = await freeTcpPort();
    await new Promise<void>((resolve) => holder.listen(gateway, '127.0.0.1', resolve));
    try {
      const ports = { kamailioWs: await freeTcpPort(), kamailioUdp: await freeUdpPort(), gateway };
      const run = await startRun('wait', ports);
      try {
        expect(await run.exited).toBe(1);
        await run.output.printed(
          new RegExp(`port ${gateway} \\(TCP, 127\\.0\\.0\\.1\\) is taken by pid ${process.pid} \\(`),
        );
        // Kamailio, started before the refusal, is gone with the benchmark.
        await expectPortsFree([ports.kamailioWs], [ports.kamailioUdp]);
      } finally {
        kill(run.child, 'SIGKILL');
      }
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 120_000);
});
