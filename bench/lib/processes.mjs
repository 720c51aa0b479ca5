import { spawn } from 'node:child_process';
import { whenAccepting } from '../../packages/gateway/test/support/loopback-ports.mjs';

/**
 * Spawns a server and measures the milliseconds from spawn to the first accepted TCP
 * connection: the start-up a user waits for. Stop it with `stop()` (by its PID only).
 */
export async function startServer(command, args, { port, host = '127.0.0.1', env = {} }) {
  const started = performance.now();
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    // A process group of its own: Kamailio's workers must go with it, or they keep the port.
    detached: true,
  });
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await Promise.race([
      whenAccepting(port, Date.now() + 10_000, host),
      exited.then((code) => {
        throw new Error(`${command} exited with ${code}: ${stderr}`);
      }),
    ]);
  } catch (error) {
    signalGroup('SIGKILL');
    throw error;
  }
  return {
    pid: child.pid,
    startMs: performance.now() - started,
    async stop() {
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      // Whatever of the group outlived its leader (workers still closing) goes now.
      signalGroup('SIGKILL');
    },
    /** Sends `signal` (SIGKILL: a crash) and resolves once the process is gone. */
    async kill(signal) {
      signalGroup(signal);
      await exited;
    },
  };
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
