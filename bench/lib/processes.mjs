import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { whenAccepting } from '../../packages/gateway/test/support/loopback-ports.mjs';
import { stopOnExit } from './cleanup.mjs';
import { assertPortFree } from './ports.mjs';

/**
 * Spawns `command` as the leader of a process group of its own (Kamailio's workers, a gateway's
 * cluster workers and whatever else it starts go with it), registered with cleanup.mjs: an
 * interrupted or failing benchmark stops it too. `stop()` sends SIGTERM to the group, SIGKILL
 * after `graceMs`, and resolves once no process of the group is left; it may be called again.
 */
export function spawnGroup(
  command,
  args,
  { env = {}, stdio = ['ignore', 'ignore', 'pipe'], graceMs = 5000 } = {},
) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio, detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let stopping;
  const forget = stopOnExit(command, () => group.stop(), { pgid: child.pid });
  const group = {
    child,
    pid: child.pid,
    exited,
    stop() {
      stopping ??= (async () => {
        signalGroup('SIGTERM');
        const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        // Whatever of the group outlived its leader (workers still closing) goes now.
        signalGroup('SIGKILL');
        await groupGone(child.pid);
        forget();
      })();
      return stopping;
    },
    /** Sends `signal` (SIGKILL: a crash) to the group and resolves once the group is gone. */
    async kill(signal) {
      signalGroup(signal);
      await exited;
      signalGroup('SIGKILL');
      await groupGone(child.pid);
      forget();
    },
  };
  return group;
}

/**
 * Spawns a server and measures the milliseconds from spawn to the first accepted TCP
 * connection: the start-up a user waits for. Refuses (PortTakenError, naming the holder) if
 * `port` or one of `udpPorts` is taken. Stop it with `stop()`.
 */
export async function startServer(command, args, { port, host = '127.0.0.1', udpPorts = [], env = {} }) {
  await assertPortFree(port, { host });
  for (const udpPort of udpPorts) await assertPortFree(udpPort, { host, protocol: 'udp' });
  const started = performance.now();
  const group = spawnGroup(command, args, { env });
  let stderr = '';
  group.child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  try {
    await Promise.race([
      whenAccepting(port, Date.now() + 10_000, host),
      group.exited.then((code) => {
        throw new Error(`${command} exited with ${code}: ${stderr}`);
      }),
    ]);
  } catch (error) {
    await group.kill('SIGKILL');
    throw error;
  }
  return {
    pid: group.pid,
    startMs: performance.now() - started,
    stop: () => group.stop(),
    /** Sends `signal` (SIGKILL: a crash) and resolves once the process and its group are gone. */
    kill: (signal) => group.kill(signal),
  };
}

/** One core busy (a Node busy loop in a group of its own) until `stop()`: load for "under load" figures. */
export function startBusyCore() {
  return spawnGroup(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}

/**
 * Resolves once no process of group `pgid` is left but zombies (which hold no port or CPU: a
 * worker whose leader died waits there for init to reap it).
 */
export async function groupGone(pgid) {
  while (await groupAlive(pgid)) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Whether any process of group `pgid` is alive (not a zombie). */
export async function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

/** Resident memory (RSS) of one process, in MB. */
export async function memoryMb(pid) {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** CPU time (user + system) one process has used so far, in microseconds, from /proc. */
export async function cpuMicroseconds(pid) {
  const { readFile } = await import('node:fs/promises');
  return ticksOf(await readFile(`/proc/${pid}/stat`, 'utf8')) * 10_000;
}

/** [process group, user + system clock ticks] of a /proc/<pid>/stat line. */
function ticksOf(stat, wantGroup = false) {
  // Fields after the command name (which may hold spaces): pgrp is the 3rd, utime and stime the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return wantGroup ? [Number(fields[2]), ticks] : ticks;
}

/**
 * CPU time (user + system) of every live process in the process group `pgid` (a server and its
 * workers: startServer gives each its own group), in microseconds. Clock ticks are 100 per second.
 */
export async function groupCpuMicroseconds(pgid) {
  const { readdir, readFile } = await import('node:fs/promises');
  let ticks = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const [group, used] = ticksOf(stat, true);
    if (group === pgid) ticks += used;
  }
  return ticks * 10_000;
}
