import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '../../packages/gateway/test/support/loopback-ports.mjs';
import { type RunningKamailio, startKamailio } from './kamailio.js';
import { type RunningRtpengine, startRtpengine } from './rtpengine.js';

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'asterisk-config');
/** Where .ci/run unpacks the Asterisk 22 build of shared/vendor (ASTERISK_PREFIX overrides it). */
export const ASTERISK_PREFIX = process.env.ASTERISK_PREFIX ?? '/opt/asterisk';
const ASTERISK = join(ASTERISK_PREFIX, 'sbin', 'asterisk');
/** Debian's asterisk-core-sounds-en-gsm (the build has no sounds): the prompts the dialplan plays. */
export const DEBIAN_SOUNDS = '/usr/share/asterisk/sounds/en_US_f_Allison';
/** Debian's asterisk-moh-opsound-gsm (the build's moh folder is empty): musiconhold.conf's `default` class. */
export const DEBIAN_MOH = '/usr/share/asterisk/moh';

export interface RunningAsterisk {
  /** Its plain SIP address, `127.0.0.1:port` (UDP, transport-udp). */
  udp: string;
  /** Its HTTP server's WebSocket URL (transport-ws), `ws://127.0.0.1:port/ws`. */
  wsUrl: string;
  /** The folder holding its configuration (`conf/`) and state. */
  folder: string;
  /** Runs one CLI command against its control socket (`asterisk -rx`) and returns the output. */
  cli(command: string): Promise<string>;
  /** The last lines it wrote to its console (notices, warnings, errors). */
  log(): string;
  stop(): Promise<void>;
}

/** Replaces `from` in `text`, and fails when `from` is not there (the project's file changed). */
function replaced(text: string, file: string, from: string | RegExp, to: string): string {
  const result = text.replace(from, to);
  if (result === text) throw new Error(`asterisk-config/${file} no longer contains ${from}`);
  return result;
}

/**
 * The Asterisk 22 of shared/vendor (installed by .ci/run) running the project's asterisk-config in
 * the foreground, as compose runs it but on free loopback ports: transport-udp on 127.0.0.1, the
 * HTTP/WebSocket server on 127.0.0.1, an RTP port range of its own, state in a temp folder (an
 * added asterisk.conf). `kamailio` (`127.0.0.1:port`) replaces the compose address of the trunk's
 * contact and identify (matched on address and port: every test peer is 127.0.0.1). Ready once
 * `core waitfullybooted` answers; stopped by the PID it was started with.
 *
 * ICE: Asterisk never offers a 127.0.0.0/8 host candidate. Browsers that connect to Asterisk
 * directly (webrtc=yes endpoints) need another address in the test's namespace: the veth end
 * 192.0.2.1 of scripts/in-loopback-namespace.sh is one, and Asterisk offers every interface's
 * addresses. The trunk to Kamailio carries plain RTP to rtpengine and uses no ICE.
 */
export async function startAsterisk(
  options: {
    /** Kamailio's plain SIP address (`127.0.0.1:port`, UDP): the `kamailio` trunk. */
    kamailio?: string;
    /** The UDP port of transport-udp (a free one when not given), for a Kamailio started first. */
    udpPort?: number;
    /**
     * Debian's English prompts as its sounds/en and Debian's music on hold as its moh
     * (DEBIAN_SOUNDS and DEBIAN_MOH must be installed).
     */
    sounds?: boolean;
  } = {},
): Promise<RunningAsterisk> {
  const udpPort = options.udpPort ?? (await freeUdpPort());
  const httpPort = await freeTcpPort();
  // A range of its own, away from rtpengine's (30000–39999) and the ephemeral ports.
  const rtpStart = 40000 + Math.floor(Math.random() * 500) * 20;
  const folder = mkdtempSync(join(tmpdir(), 'ringway-asterisk-'));
  const conf = join(folder, 'conf');
  cpSync(CONFIG, conf, { recursive: true });
  for (const dir of ['run', 'log', 'lib', 'spool', 'keys']) mkdirSync(join(folder, dir));
  // Its data folder: the build's, with Debian's prompts as sounds/en and Debian's music as moh
  // when asked for (the build's own sounds and moh folders are empty).
  const data = join(folder, 'data');
  mkdirSync(join(data, 'sounds'), { recursive: true });
  const builtData = join(ASTERISK_PREFIX, 'var', 'lib', 'asterisk');
  const replacedByDebian = options.sounds ? ['sounds', 'moh'] : ['sounds'];
  for (const entry of readdirSync(builtData))
    if (!replacedByDebian.includes(entry)) symlinkSync(join(builtData, entry), join(data, entry));
  if (options.sounds) {
    if (!existsSync(DEBIAN_SOUNDS))
      throw new Error(`no prompts at ${DEBIAN_SOUNDS}: install asterisk-core-sounds-en-gsm`);
    symlinkSync(DEBIAN_SOUNDS, join(data, 'sounds', 'en'));
    if (!existsSync(DEBIAN_MOH))
      throw new Error(`no music on hold at ${DEBIAN_MOH}: install asterisk-moh-opsound-gsm`);
    symlinkSync(DEBIAN_MOH, join(data, 'moh'));
  }

  const edit = (file: string, change: (text: string) => string) =>
    writeFileSync(join(conf, file), change(readFileSync(join(conf, file), 'utf8')));
  edit('pjsip.conf', (text) => {
    let result = replaced(text, 'pjsip.conf', /^bind=0\.0\.0\.0:5060$/m, `bind=127.0.0.1:${udpPort}`);
    if (options.kamailio) {
      result = replaced(
        result,
        'pjsip.conf',
        /^contact=sip:172\.28\.0\.10:5060$/m,
        `contact=sip:${options.kamailio}`,
      );
      result = replaced(result, 'pjsip.conf', /^match=172\.28\.0\.10$/m, `match=${options.kamailio}`);
    }
    return result;
  });
  edit('http.conf', (text) =>
    replaced(
      replaced(text, 'http.conf', /^bindaddr=0\.0\.0\.0$/m, 'bindaddr=127.0.0.1'),
      'http.conf',
      /^bindport=8088$/m,
      `bindport=${httpPort}`,
    ),
  );
  edit('rtp.conf', (text) =>
    replaced(
      replaced(text, 'rtp.conf', /^rtpstart=\d+$/m, `rtpstart=${rtpStart}`),
      'rtp.conf',
      /^rtpend=\d+$/m,
      `rtpend=${rtpStart + 19}`,
    ),
  );
  // "[directories]", not the sample's "[directories](!)": that is a template and is ignored.
  writeFileSync(
    join(conf, 'asterisk.conf'),
    [
      '[directories]',
      `astetcdir => ${conf}`,
      `astmoddir => ${ASTERISK_PREFIX}/lib/asterisk/modules`,
      `astvarlibdir => ${folder}/lib`,
      `astdbdir => ${folder}/lib`,
      `astkeydir => ${folder}`,
      `astdatadir => ${data}`,
      `astagidir => ${ASTERISK_PREFIX}/var/lib/asterisk/agi-bin`,
      `astspooldir => ${folder}/spool`,
      `astrundir => ${folder}/run`,
      `astlogdir => ${folder}/log`,
      `astsbindir => ${ASTERISK_PREFIX}/sbin`,
      '[options]',
      'verbose = 0',
      // A namespace or a container may have no Ethernet interface to seed it from.
      'entityid = 02:00:00:00:00:01',
      '',
    ].join('\n'),
  );
  const asteriskConf = join(conf, 'asterisk.conf');

  const cli = (command: string) =>
    new Promise<string>((resolve, reject) => {
      execFile(ASTERISK, ['-C', asteriskConf, '-rx', command], { timeout: 10_000 }, (error, stdout) => {
        if (error) reject(error);
        // The remote console says this even with an entityid set.
        else resolve(stdout.replace(/^No ethernet interface found.*\n/gm, ''));
      });
    });

  const child: ChildProcess = spawn(ASTERISK, ['-f', '-C', asteriskConf], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // PJSIP looks up the machine's own host name for IPv6 (AAAA) at start-up; in the test's
    // namespace that DNS query goes nowhere, and two tries of ~3 s each kept start-up at 6.5 s.
    env: { ...process.env, RES_OPTIONS: 'timeout:1 attempts:1' },
  });
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
    if (process.env.ASTERISK_DEBUG) process.stderr.write(d);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  child.once('error', (error) => {
    log += `\n${error.message}`;
  });

  // Its control socket appears during start-up; `core waitfullybooted` returns once all modules
  // have loaded.
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`asterisk exited with ${await exit}: ${log}`);
    const booted = await cli('core waitfullybooted').then(
      () => true,
      () => false,
    );
    if (booted) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`asterisk did not boot in 15 s: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    udp: `127.0.0.1:${udpPort}`,
    wsUrl: `ws://127.0.0.1:${httpPort}/ws`,
    folder,
    cli,
    log: () => log,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

export interface PbxBehindKamailio {
  asterisk: RunningAsterisk;
  kamailio: RunningKamailio;
  rtpengine: RunningRtpengine;
  stop(): Promise<void>;
}

/**
 * The "behind the stack" recipe: rtpengine, Kamailio with the PBX route (its dispatcher naming
 * Asterisk) and Asterisk with Debian's prompts, its trunk naming Kamailio. Asterisk's port is
 * chosen first: each must know the other's address.
 */
export async function startAsteriskBehindKamailio(secret: string): Promise<PbxBehindKamailio> {
  const asteriskPort = await freeUdpPort();
  const rtpengine = await startRtpengine();
  const kamailio = await startKamailio({
    secret,
    sipDomain: 'ringway.test',
    rtpengine: rtpengine.socket,
    pbx: `127.0.0.1:${asteriskPort}`,
  });
  const asterisk = await startAsterisk({ kamailio: kamailio.udp, udpPort: asteriskPort, sounds: true });
  return {
    asterisk,
    kamailio,
    rtpengine,
    async stop() {
      await asterisk.stop();
      await kamailio.stop();
      await rtpengine.stop();
    },
  };
}
