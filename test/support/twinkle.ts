import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../../packages/gateway/test/support/loopback-ports.mjs';

export interface RunningTwinkle {
  /** Resolves once Twinkle's output matches `pattern` (already printed or still to come). */
  printed(pattern: RegExp, ms?: number): Promise<string>;
  /** Sends a Twinkle command line (`call sip:…`, `answer`, `bye`, `hold`, `retrieve`, `dtmf 5`…). */
  command(line: string): void;
  /** The peak absolute sample (0…32767) of what Twinkle played out (what it heard): 0 is silence. */
  receivedPeak(): number;
  stop(): Promise<void>;
}

/**
 * A speech-like test signal (16-bit mono WAV): 440 Hz bursts of 250 ms with pauses, so that
 * Twinkle's voice-activity detection does not silence it as it does a steady tone.
 */
function burstsWav(seconds: number, rate = 8000): Buffer {
  const samples = rate * seconds;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const on = Math.floor(i / (rate / 4)) % 2 === 0;
    const value = on ? 12_000 * Math.sin((2 * Math.PI * 440 * i) / rate) : 0;
    data.writeInt16LE(Math.round(value), i * 2);
  }
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
 * Debian's twinkle-console as a plain-SIP phone: registers `user` over UDP through `proxy`
 * (`127.0.0.1:port`, written without `sip:`, as Twinkle wants it) with a digest credential; the
 * test answers calls with the `answer` command. Twinkle plays and records only through a sound server, so each instance
 * gets its own user-mode PulseAudio with two null sinks: `mic` (a speech-like signal is played
 * into it; its monitor is Twinkle's microphone) and `speaker` (Twinkle's output; its monitor is
 * recorded). Driven through its command line on stdin.
 */
export async function startTwinkle(options: {
  user: string;
  domain: string;
  proxy: string;
  credential: { username: string; password: string };
}): Promise<RunningTwinkle> {
  const home = mkdtempSync(join(tmpdir(), 'ringway-twinkle-'));
  const runtime = join(home, 'run');
  mkdirSync(join(home, '.twinkle'), { recursive: true });
  mkdirSync(runtime, { recursive: true });
  const socket = join(runtime, 'native');
  const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: runtime, PULSE_SERVER: `unix:${socket}` };
  const children: ChildProcess[] = [];
  const run = (command: string, args: string[], stdio: 'ignore' | 'pipe' = 'ignore') => {
    const child = spawn(command, args, { env, stdio: [stdio, stdio, stdio] });
    children.push(child);
    return child;
  };
  run('pulseaudio', [
    '--daemonize=no',
    '--exit-idle-time=-1',
    '--disallow-exit',
    '-n',
    '--use-pid-file=no',
    '--load=module-null-sink sink_name=speaker',
    '--load=module-null-sink sink_name=mic',
    `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
  ]);
  for (const deadline = Date.now() + 10_000; !existsSync(socket); ) {
    if (Date.now() > deadline) throw new Error('PulseAudio did not start for Twinkle');
    await new Promise((r) => setTimeout(r, 50));
  }
  writeFileSync(
    join(home, '.asoundrc'),
    [
      'pcm.tw_speaker { type pulse device "speaker" }',
      'pcm.tw_mic { type pulse device "mic.monitor" }',
      'ctl.!default { type pulse }',
      '',
    ].join('\n'),
  );
  const port = await freeUdpPort();
  writeFileSync(
    join(home, '.twinkle', 'twinkle.sys'),
    [
      'dev_ringtone=alsa:tw_speaker',
      'dev_speaker=alsa:tw_speaker',
      'dev_mic=alsa:tw_mic',
      `sip_udp_port=${port}`,
      'rtp_port=42000',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(home, '.twinkle', `${options.user}.cfg`),
    [
      `user_name=${options.user}`,
      `user_domain=${options.domain}`,
      `auth_realm=${options.domain}`,
      `auth_name=${options.credential.username}`,
      `auth_pass=${options.credential.password}`,
      `outbound_proxy=${options.proxy}`,
      'use_outbound_proxy=yes',
      'all_requests_to_proxy=yes',
      `registrar=${options.proxy}`,
      'register_at_startup=yes',
      'registration_time=300',
      'codecs=g711u,g711a',
      '',
    ].join('\n'),
  );
  const signal = join(home, 'signal.wav');
  writeFileSync(signal, burstsWav(120));
  run('paplay', ['--device=mic', signal]);
  const heard = join(home, 'heard.wav');
  run('parecord', ['--device=speaker.monitor', '--file-format=wav', '--channels=1', '--rate=8000', heard]);

  const twinkle = run('twinkle-console', [`${options.user}.cfg`], 'pipe');
  let log = '';
  const waiters = new Set<() => void>();
  const keep = (d: Buffer) => {
    log += d.toString();
    if (process.env.TWINKLE_DEBUG) process.stderr.write(d);
    for (const wake of waiters) wake();
  };
  twinkle.stdout?.on('data', keep);
  twinkle.stderr?.on('data', keep);
  const exited = new Promise((resolve) => twinkle.once('exit', resolve));

  return {
    printed(pattern, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(log);
          if (!match) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(match[0]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`Twinkle never printed ${pattern} in ${ms} ms:\n${log.slice(-3000)}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    command: (line) => twinkle.stdin?.write(`${line}\n`),
    receivedPeak() {
      if (!existsSync(heard)) return 0;
      const wav = readFileSync(heard);
      let peak = 0;
      for (let i = 44; i + 1 < wav.length; i += 2) peak = Math.max(peak, Math.abs(wav.readInt16LE(i)));
      return peak;
    },
    async stop() {
      twinkle.stdin?.write('quit\n');
      const timer = setTimeout(() => twinkle.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      for (const child of children) if (child !== twinkle) child.kill('SIGTERM');
    },
  };
}
