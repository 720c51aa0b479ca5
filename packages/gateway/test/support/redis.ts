import { type ChildProcess, spawn } from 'node:child_process';
import { freeTcpPort } from './loopback-ports.mjs';

export interface RunningRedis {
  url: string;
  stop(): void;
}

/** Debian's redis-server on a loopback port (a free one unless given), nothing saved; ready once it says so. */
export async function startRedis(port?: number): Promise<RunningRedis> {
  port ??= await freeTcpPort();
  const redis: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    redis.once('error', reject);
    redis.stdout?.on('data', (data: Buffer) => {
      if (data.toString().includes('Ready to accept connections')) resolve();
    });
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => redis.kill('SIGTERM') };
}
