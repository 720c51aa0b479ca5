import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, whenAccepting } from '../../packages/gateway/test/support/loopback-ports.mjs';

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'kamailio-config', 'kamailio.cfg');

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
  const port = await freeTcpPort();
  const udpPort = await freeTcpPort();
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
    whenAccepting(port, Date.now() + 10_000),
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
