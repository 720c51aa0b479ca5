import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../../packages/gateway/test/support/loopback-ports.mjs';

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

/** A 16-bit mono WAV of a sine tone, for linphone to play as its microphone. */
function toneWav(hz: number, seconds: number, rate = 8000): Buffer {
  const samples = rate * seconds;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    data.writeInt16LE(Math.round(12_000 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
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
  writeFileSync(tone, toneWav(440, 60));
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
  let log = '';
  const waiters = new Set<() => void>();
  const keep = (d: Buffer) => {
    log += d.toString();
    if (process.env.LINPHONE_DEBUG) process.stderr.write(d);
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const command = (line: string) => child.stdin?.write(`${line}\n`);
  command('soundcard use files');
  command(`play ${tone}`);
  command(`record ${recording}`);
  command('autoanswer enable');

  const printed = (pattern: RegExp, ms = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(log);
        if (!match) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(match[0]);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`linphonec never printed ${pattern} in ${ms} ms:\n${log.slice(-2000)}`));
      }, ms);
      waiters.add(check);
      check();
    });

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
    receivedPeak() {
      if (!existsSync(recording)) return 0;
      const wav = readFileSync(recording);
      let peak = 0;
      for (let i = 44; i + 1 < wav.length; i += 2) peak = Math.max(peak, Math.abs(wav.readInt16LE(i)));
      return peak;
    },
    async stop() {
      command('quit');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
