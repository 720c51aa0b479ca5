import { type ChildProcess, spawn } from 'node:child_process';
import { freeUdpPort } from '../../packages/gateway/test/support/loopback-ports.mjs';

export interface RunningRtpengine {
  /** Its control socket (ng protocol over UDP), as Kamailio's rtpengine_sock wants it. */
  socket: string;
  stop(): Promise<void>;
}

/**
 * Debian's rtpengine in userspace mode (`--table=-1`, no kernel module) on loopback, with its own
 * media port range. Ready when it logs "Startup complete"; stopped by the PID it was started with.
 */
export async function startRtpengine(): Promise<RunningRtpengine> {
  const control = await freeUdpPort();
  // A range of its own, away from the ephemeral ports the rest of the test picks from, of 100
  // ports: a call bridged between WebRTC and plain RTP takes 4 (RTP and RTCP on each side) until
  // its BYE or rtpengine's timeout, and 20 ran out under a busy CI run (Kamailio's log: "Ran out of
  // ports", the INVITE answered 503: "Asterisk calls the page" failing now and then).
  const portMin = 30000 + Math.floor(Math.random() * 100) * 100;
  const child: ChildProcess = spawn(
    'rtpengine',
    [
      '--foreground',
      '--table=-1',
      '--interface=127.0.0.1',
      `--listen-ng=127.0.0.1:${control}`,
      `--port-min=${portMin}`,
      `--port-max=${portMin + 99}`,
      // Info level: "Startup complete" is how we know it is ready.
      '--log-stderr',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rtpengine did not start in 10 s: ${log}`));
    }, 10_000);
    child.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-5000);
      if (log.includes('Startup complete')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`rtpengine exited with ${code}: ${log}`));
    });
  });
  return {
    socket: `udp:127.0.0.1:${control}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
