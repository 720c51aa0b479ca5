import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'kamailio-config', 'kamailio.cfg');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepting(port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`Kamailio did not listen on ${port}`));
        else setTimeout(attempt, 10);
      });
    };
    attempt();
  });
}

export interface RunningKamailio {
  wsUrl: string;
  /** Its plain SIP address, `127.0.0.1:port` (UDP). */
  udp: string;
  stop(): Promise<void>;
}

/**
 * Debian's Kamailio running kamailio-config/kamailio.cfg on a free loopback port, with the
 * values of kamailio-local.cfg written for this run. Stopped by the PID it was started with.
 */
export async function startKamailio(options: {
  secret: string;
  sipDomain: string;
}): Promise<RunningKamailio> {
  const port = await freePort();
  const udpPort = await freePort();
  const folder = mkdtempSync(join(tmpdir(), 'ringway-kamailio-'));
  copyFileSync(CONFIG, join(folder, 'kamailio.cfg'));
  writeFileSync(
    join(folder, 'kamailio-local.cfg'),
    [
      `#!substdef "!WS_LISTEN!tcp:127.0.0.1:${port}!g"`,
      `#!substdef "!UDP_LISTEN!udp:127.0.0.1:${udpPort}!g"`,
      `#!substdef "!SIP_DOMAIN!${options.sipDomain}!g"`,
      `#!substdef "!AUTH_SECRET!${options.secret}!g"`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    'kamailio',
    ['-DD', '-E', '-f', join(folder, 'kamailio.cfg'), '-m', '64', '-M', '8'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-5000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await Promise.race([
    accepting(port, Date.now() + 10_000),
    exited.then((code) => {
      throw new Error(`kamailio exited with ${code}: ${log}`);
    }),
  ]);
  return {
    wsUrl: `ws://127.0.0.1:${port}/`,
    udp: `127.0.0.1:${udpPort}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
