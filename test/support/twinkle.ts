import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../../packages/gateway/test/support/loopback-ports.mjs';
import { ProcessOutput } from './process-output.js';
import { tone440, wavFile, wavPeak } from './wav.js';

export interface RunningTwinkle {
  /** Resolves once Twinkle's output matches `pattern` (already printed or still to come). */
  printed(pattern: RegExp, ms?: number): Promise<string>;
  /** Sends a Twinkle command line (`call sip:…`, `answer`, `bye`, `hold`, `retrieve`, `dtmf 5`…). */
  command(line: string): void;
  /** The peak absolute sample (0…32767) of what Twinkle played out (what it heard): 0 is silence. */
  receivedPeak(): number;
  stop(): Promise<void>;
}

/** A speech-like signal: 250 ms of 440 Hz, 250 ms of silence (a steady tone Twinkle's VAD silences). */
const bursts = (i: number, rate: number) => (Math.floor(i / (rate / 4)) % 2 === 0 ? tone440(i, rate) : 0);

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
  writeFileSync(signal, wavFile(120, bursts));
  run('paplay', ['--device=mic', signal]);
  const heard = join(home, 'heard.wav');
  run('parecord', ['--device=speaker.monitor', '--file-format=wav', '--channels=1', '--rate=8000', heard]);

  const twinkle = run('twinkle-console', [`${options.user}.cfg`], 'pipe');
  const output = new ProcessOutput('Twinkle', Boolean(process.env.TWINKLE_DEBUG));
  twinkle.stdout?.on('data', (d: Buffer) => output.append(d));
  twinkle.stderr?.on('data', (d: Buffer) => output.append(d));
  const exited = new Promise((resolve) => twinkle.once('exit', resolve));

  return {
    printed: (pattern, ms) => output.printed(pattern, ms),
    command: (line) => twinkle.stdin?.write(`${line}\n`),
    receivedPeak: () => wavPeak(heard),
    async stop() {
      twinkle.stdin?.write('quit\n');
      const timer = setTimeout(() => twinkle.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      for (const child of children) if (child !== twinkle) child.kill('SIGTERM');
    },
  };
}
