import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../../packages/gateway/test/support/loopback-ports.mjs';
import { ProcessOutput } from './process-output.js';
import { tone440, wavFile, wavPeak } from './wav.js';

export interface RunningLinphone {
  /** Resolves once its account is registered (asks `status register` until it says so). */
  registered(ms?: number): Promise<void>;
  /** Resolves once linphonec's output matches `pattern` (already printed or still to come). */
  printed(pattern: RegExp, ms?: number): Promise<string>;
  /** Sends a linphonec command (`call sip:…`, `terminate`, `answer`…). */
  command(line: string): void;
  /** The peak absolute sample (0…32767) of what linphone recorded from the far end: 0 is silence. */
  receivedPeak(): number;
  stop(): Promise<void>;
}

/**
 * Debian's linphonec (liblinphone 5.1) as a plain-SIP phone on loopback: registers `user` over UDP
 * to `registrar` (`127.0.0.1:port`) with a digest credential, answers every call, plays a 440 Hz
 * tone as its microphone and records what it hears (file mode, no sound card). Driven through its
 * command line on stdin. By default it registers with a GRUU (`;gr=urn:uuid:…`), as users' linphones do.
 * Quirks handled (shared notes): a fresh HOME with `~/.local/share/linphone`, and no network-state
 * monitoring (with only `lo` up it would decide the network is down).
 */
export async function startLinphone(options: {
  user: string;
  domain: string;
  registrar: string;
  credential: { username: string; password: string };
}): Promise<RunningLinphone> {
  const home = mkdtempSync(join(tmpdir(), 'ringway-linphone-'));
  mkdirSync(join(home, '.local', 'share', 'linphone'), { recursive: true });
  const port = await freeUdpPort();
  const tone = join(home, 'tone.wav');
  const recording = join(home, 'heard.wav');
  writeFileSync(tone, wavFile(60, tone440));
  const identity = `sip:${options.user}@${options.domain}`;
  writeFileSync(
    join(home, 'linphonerc'),
    [
      '[sip]',
      `sip_port=${port}`,
      'sip_tcp_port=-1',
      'sip_tls_port=-1',
      'default_proxy=0',
      'inc_timeout=60',
      '[rtp]',
      'audio_rtp_port=40000-40999',
      '[proxy_0]',
      `reg_proxy=<sip:${options.registrar};transport=udp>`,
      `reg_identity=${identity}`,
      // Every request through the registrar (an outbound proxy): the domain is a name no DNS knows.
      `reg_route=<sip:${options.registrar};transport=udp;lr>`,
      'reg_expires=300',
      'reg_sendregister=1',
      '[auth_info_0]',
      // liblinphone finds a credential by the identity's user; the digest username is `userid`.
      `username=${options.user}`,
      `userid=${options.credential.username}`,
      `domain=${options.domain}`,
      `passwd=${options.credential.password}`,
      `realm=${options.domain}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('linphonec', ['-c', join(home, 'linphonerc'), '-a', '-S'], {
    env: { ...process.env, HOME: home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = new ProcessOutput('linphonec', Boolean(process.env.LINPHONE_DEBUG));
  child.stdout?.on('data', (d: Buffer) => output.append(d));
  child.stderr?.on('data', (d: Buffer) => output.append(d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const command = (line: string) => child.stdin?.write(`${line}\n`);
  command('soundcard use files');
  command(`play ${tone}`);
  command(`record ${recording}`);
  command('autoanswer enable');

  const printed = (pattern: RegExp, ms?: number) => output.printed(pattern, ms);

  return {
    printed,
    async registered(ms = 15_000) {
      const asking = setInterval(() => command('status register'), 250);
      try {
        await printed(/registered, identity=/, ms);
      } finally {
        clearInterval(asking);
      }
    },
    command,
    receivedPeak: () => wavPeak(recording),
    async stop() {
      command('quit');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
