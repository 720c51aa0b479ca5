import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freeTcpPort,
  freeUdpPort,
  whenAccepting,
} from '../../packages/gateway/test/support/loopback-ports.mjs';
import { wavPeak } from './wav.js';

/** One event of baresip's ctrl_tcp module (`{"event":true,"type":"CALL_ESTABLISHED",...}`). */
export interface BaresipEvent {
  type: string;
  class?: string;
  param?: string;
  peeruri?: string;
}

export interface RunningBaresip {
  /** Takes the oldest unclaimed event of this type (already come or still to come); rejects after `ms`. */
  event(type: string, ms?: number): Promise<BaresipEvent>;
  /** Resolves once its account is registered (its log says so: that can come before ctrl_tcp is connected). */
  registered(ms?: number): Promise<void>;
  /** Sends a ctrl_tcp command (`dial`, `hangup`, …). */
  command(command: string, params?: string): void;
  /**
   * The peak absolute sample (0…32767) of what baresip decoded from the far end in its latest
   * call, read from the WAV file its sndfile module writes: 0 is silence.
   */
  receivedPeak(): number;
  /** Its SIP address, `127.0.0.1:port` (UDP). */
  sip: string;
  stop(): Promise<void>;
}

/**
 * Debian's baresip as a plain-SIP phone on loopback: registers `user` over UDP through the
 * outbound proxy `registration.outbound` (`127.0.0.1:port`) — or, without `registration`, does
 * not register and takes calls sent to its address (as a PBX would: see `sip`) — answers every
 * call at once, sends a 440 Hz tone (ausine) and records what it hears (sndfile). Driven and
 * watched over ctrl_tcp.
 */
export async function startBaresip(options: {
  user: string;
  domain: string;
  registration?: { outbound: string; credential: { username: string; password: string } };
}): Promise<RunningBaresip> {
  const folder = mkdtempSync(join(tmpdir(), 'ringway-baresip-'));
  const sipPort = await freeUdpPort();
  const controlPort = await freeTcpPort();
  writeFileSync(
    join(folder, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      // No sound card: the player goes nowhere, the tone is the microphone.
      'audio_player aubridge,nil',
      'audio_alert aubridge,nil',
      'audio_source ausine,440',
      // ausine makes 48 kHz stereo only.
      'ausrc_srate 48000',
      'ausrc_channels 2',
      `snd_path ${folder}`,
      `ctrl_tcp_listen 127.0.0.1:${controlPort}`,
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module ausine.so',
      'module aubridge.so',
      'module sndfile.so',
      'module_app account.so',
      // menu provides the commands (dial, hangup) that ctrl_tcp carries.
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      '',
    ].join('\n'),
  );
  const registration = options.registration;
  const account = registration
    ? `<sip:${options.user}@${options.domain};transport=udp>;outbound="sip:${registration.outbound};transport=udp";` +
      `auth_user=${registration.credential.username};auth_pass=${registration.credential.password};regint=300`
    : `<sip:${options.user}@${options.domain};transport=udp>;regint=0`;
  writeFileSync(join(folder, 'accounts'), `${account};answermode=auto\n`);
  writeFileSync(join(folder, 'contacts'), '');

  const child: ChildProcess = spawn('baresip', ['-f', folder], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keepLog = (d: Buffer) => {
    log = (log + d.toString()).slice(-5000);
    if (process.env.BARESIP_DEBUG) process.stderr.write(d);
  };
  child.stdout?.on('data', keepLog);
  child.stderr?.on('data', keepLog);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await Promise.race([
    whenAccepting(controlPort, Date.now() + 10_000),
    exited.then((code) => {
      throw new Error(`baresip exited with ${code}: ${log}`);
    }),
  ]);

  const control: Socket = connect(controlPort, '127.0.0.1');
  const events: BaresipEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  control.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    // Netstrings: `<length>:<json>,`.
    for (;;) {
      const colon = buffer.indexOf(':');
      if (colon < 0) break;
      const length = Number(buffer.slice(0, colon));
      if (buffer.length < colon + 1 + length + 1) break;
      const message = JSON.parse(buffer.slice(colon + 1, colon + 1 + length));
      buffer = buffer.slice(colon + 1 + length + 1);
      if (message.event) events.push(message as BaresipEvent);
      for (const wake of waiters) wake();
    }
  });
  await new Promise((resolve) => control.once('connect', resolve));

  return {
    sip: `127.0.0.1:${sipPort}`,
    event(type, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const index = events.findIndex((e) => e.type === type);
          if (index < 0) return;
          const [found] = events.splice(index, 1);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`baresip: no ${type} in ${ms} ms; events ${events.map((e) => e.type)}; log ${log}`),
          );
        }, ms);
        waiters.add(check);
        check();
      });
    },
    async registered(ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!/\{0\/UDP\/v4\} 200 OK/.test(log)) {
        if (Date.now() > deadline) throw new Error(`baresip did not register in ${ms} ms: ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    command(command, params) {
      const json = JSON.stringify({ command, params, token: String(Date.now()) });
      control.write(`${Buffer.byteLength(json)}:${json},`);
    },
    receivedPeak() {
      // Named dump-<date-time>-dec.wav: the last in order is the latest call.
      const latest = readdirSync(folder)
        .filter((n) => n.endsWith('-dec.wav'))
        .sort()
        .at(-1);
      return wavPeak(latest && join(folder, latest));
    },
    async stop() {
      control.destroy();
      child.kill('SIGTERM');
      await exited;
    },
  };
}
