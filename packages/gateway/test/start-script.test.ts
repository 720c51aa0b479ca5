import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { eventually } from '../../../test/support/eventually.js';
import { freeTcpPort } from './support/loopback-ports.mjs';
import { startRedis } from './support/redis.js';
import { serverCertificate } from './support/test-certificates.js';

// Issue 28: `npm start` and the image run dist/start.sh, which starts the gateway from the V8
// start-up snapshot `npm run build` made (dist/gateway.blob) when this node can load it, and from
// the bundle when it cannot, naming why in the start-up line. Built by `npm run build`.
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const page = join(here, '..', '..', 'softphone', 'dist', 'page');

interface Started {
  /** Every start-up line (one per gateway process: the workers' with WORKERS > 1). */
  lines: { startedFrom: { code: string; fallback?: string }; worker?: number; pid: number }[];
  port: number;
  /** performance.now() when start.sh was spawned. */
  startedAt: number;
  /** SIGTERM, and resolves with the exit code. */
  stop: () => Promise<number | null>;
}

/** start.sh of `folder` running, with everything it wrote so far. */
function runStartScript(folder: string, env: Record<string, string>) {
  const startedAt = performance.now();
  const child = spawn('sh', [join(folder, 'start.sh')], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', SOFTPHONE_DIR: page, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  let output = '';
  const collect = (d: Buffer) => {
    output += d;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return {
    child,
    startedAt,
    exited,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** start.sh of `folder` until `processes` start-up lines are out. */
function start(folder: string, env: Record<string, string> = {}, processes = 1): Promise<Started> {
  return new Promise((resolve, reject) => {
    const run = runStartScript(folder, env);
    const timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`no start-up line in time: ${run.output()}`));
    }, 15_000);
    const check = () => {
      const lines = run
        .output()
        .split('\n')
        .filter((line) => line.includes('"startupMs"'))
        .map((line) => JSON.parse(line));
      if (lines.length < processes) return;
      clearTimeout(timer);
      const port = Number(/:(\d+)\/sip/.exec(lines[0].msg)?.[1]);
      resolve({ lines, port, startedAt: run.startedAt, stop: run.stop });
    };
    run.child.stdout.on('data', check);
    run.child.stderr.on('data', check);
    void run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`start.sh exited (${code}) before its start-up line: ${run.output()}`));
    });
  });
}

/** Until the gateway has been up two seconds: the timers a test waits on are set long after its start. */
function upForTwoSeconds(gateway: Started): Promise<number> {
  return eventually(
    () => performance.now() - gateway.startedAt,
    (upMs) => upMs > 2_000,
    () => 'never',
  );
}

/**
 * A folder like dist/ with start.sh, the bundle and, unless `blob` is false, the blob: `stamp`
 * beside it, and the builder's time (gateway.blob.node), or `builderTime` instead.
 */
function distCopy({
  blob = true,
  stamp,
  flags = true,
  builderTime,
}: {
  blob?: boolean;
  stamp?: string;
  flags?: boolean;
  builderTime?: Date;
}): string {
  const folder = mkdtempSync(join(tmpdir(), 'ringway-start-'));
  copyFileSync(join(dist, 'start.sh'), join(folder, 'start.sh'));
  if (flags) copyFileSync(join(dist, 'node-flags'), join(folder, 'node-flags'));
  // Node runs a main module from its real path: the bundle finds its chunks in dist/.
  symlinkSync(join(dist, 'gateway.mjs'), join(folder, 'gateway.mjs'));
  if (blob) {
    symlinkSync(join(dist, 'gateway.blob'), join(folder, 'gateway.blob'));
    if (builderTime === undefined)
      symlinkSync(join(dist, 'gateway.blob.node'), join(folder, 'gateway.blob.node'));
    else {
      writeFileSync(join(folder, 'gateway.blob.node'), '');
      utimesSync(join(folder, 'gateway.blob.node'), builderTime, builderTime);
    }
    if (stamp === undefined)
      copyFileSync(join(dist, 'gateway.blob.stamp'), join(folder, 'gateway.blob.stamp'));
    else writeFileSync(join(folder, 'gateway.blob.stamp'), stamp);
  }
  return folder;
}

describe('start.sh', () => {
  it('starts the gateway from the snapshot, which serves health, the page, the sessions API and the API docs', async () => {
    const gateway = await start(dist);
    const statuses: number[] = [];
    // start.sh execs node: the gateway's own command line, with npm start's V8 flags.
    const commandLine = readFileSync(`/proc/${gateway.lines[0].pid}/cmdline`, 'utf8').split('\0');
    try {
      for (const [method, path] of [
        ['GET', '/healthz'],
        ['GET', '/'],
        ['POST', '/api/sessions'],
        ['GET', '/docs/json'],
      ]) {
        statuses.push((await fetch(`http://127.0.0.1:${gateway.port}${path}`, { method })).status);
      }
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
    expect(gateway.lines[0].startedFrom).toEqual({ code: 'snapshot' });
    expect(gateway.lines[0].pid).not.toBe(process.pid);
    expect(statuses).toEqual([200, 200, 201, 200]);
    const flags = readFileSync(join(dist, 'node-flags'), 'utf8').split(/\s+/).filter(Boolean);
    expect(flags.length).toBeGreaterThan(0);
    expect(commandLine).toEqual(expect.arrayContaining(flags));
  });

  it('from the snapshot, serves HTTPS with certificate files and redirects plain HTTP (node:http and node:tls loaded on first use)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ringway-start-tls-'));
    const pem = await serverCertificate(['127.0.0.1']);
    writeFileSync(join(folder, 'cert.pem'), pem.cert);
    writeFileSync(join(folder, 'key.pem'), pem.key);
    const redirectPort = await freeTcpPort();
    const gateway = await start(dist, {
      TLS_CERT_FILE: join(folder, 'cert.pem'),
      TLS_KEY_FILE: join(folder, 'key.pem'),
      HTTP_REDIRECT_PORT: String(redirectPort),
    });
    let redirect: Response | undefined;
    try {
      redirect = await fetch(`http://127.0.0.1:${redirectPort}/?join=abc`, { redirect: 'manual' });
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
    expect(gateway.lines[0].startedFrom).toEqual({ code: 'snapshot' });
    expect(redirect?.status).toBe(308);
    expect(redirect?.headers.get('location')).toBe(`https://127.0.0.1:${gateway.port}/?join=abc`);
  });

  it('from the snapshot, writes lines for people with LOG_FORMAT=pretty (pino-pretty, a part required on first use)', async () => {
    const run = runStartScript(dist, { LOG_FORMAT: 'pretty' });
    try {
      await eventually(
        run.output,
        (text) => /SIP WebSocket at ws:/.test(text),
        (text) => `no pretty start-up line: ${text}`,
      );
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    const output = run.output();
    expect(output).toMatch(/INFO.*SIP WebSocket at ws:\/\/127\.0\.0\.1:\d+\/sip/);
    expect(output).toMatch(/startedFrom: \{\s*"code": "snapshot"/);
  });

  it('starts from the bundle, saying so, when the snapshot was made by another node', async () => {
    const gateway = await start(distCopy({ stamp: 'v0.0.1 x86_64 --max-semi-space-size=2\n' }));
    expect(await gateway.stop()).toBe(0);
    expect(gateway.lines[0].startedFrom.code).toBe('bundle');
    expect(gateway.lines[0].startedFrom.fallback).toMatch(
      /made by another node \(v0\.0\.1 .*\), this is v\d+/,
    );
  });

  // The stamp's second line names the node that made the blob: start.sh then takes the stamp's
  // version as that node's without running it. A stamp that says v0.0.1 shows which way it went.
  const stampOfThisNode = (version: string) =>
    readFileSync(join(dist, 'gateway.blob.stamp'), 'utf8').replace(/^v\S+/, version);

  it('stamps the blob with the node that made it', () => {
    const [made, builder] = readFileSync(join(dist, 'gateway.blob.stamp'), 'utf8').split('\n');
    expect(made?.split(' ').slice(0, 1)).toEqual([process.version]);
    expect(builder).toBe(realpathSync(process.execPath));
  });

  it('takes the stamp as it is when the node on PATH is the very file that made the blob (no node --version)', async () => {
    const gateway = await start(distCopy({ stamp: stampOfThisNode('v0.0.1') }));
    expect(await gateway.stop()).toBe(0);
    expect(gateway.lines[0].startedFrom).toEqual({ code: 'snapshot' });
  });

  it('asks node its version when the node at that path is not the file it was (an upgrade in its place)', async () => {
    const gateway = await start(
      distCopy({ stamp: stampOfThisNode('v0.0.1'), builderTime: new Date('2000-01-01T00:00:00Z') }),
    );
    expect(await gateway.stop()).toBe(0);
    expect(gateway.lines[0].startedFrom.code).toBe('bundle');
    expect(gateway.lines[0].startedFrom.fallback).toMatch(
      /made by another node \(v0\.0\.1 .*\), this is v\d+/,
    );
  });

  it('asks node its version when the stamp names no node (an older build), and starts from the snapshot when it matches', async () => {
    const [made] = readFileSync(join(dist, 'gateway.blob.stamp'), 'utf8').split('\n');
    const gateway = await start(distCopy({ stamp: `${made}\n` }));
    expect(await gateway.stop()).toBe(0);
    expect(gateway.lines[0].startedFrom).toEqual({ code: 'snapshot' });
  });

  // Node's timers keep their queue in the heap: one left from building the snapshot made every
  // timer set after the first second never fire (docs/start-up.md). Each of these waits on a
  // timer set seconds after the start.
  it('from the snapshot, reconnects to Redis after Redis restarts', async () => {
    let redis = await startRedis();
    const port = Number(new URL(redis.url).port);
    const gateway = await start(dist, {
      REDIS_URL: redis.url,
      AUTH_SECRET: 'a-secret-of-32-characters-or-so!',
    });
    const readiness = async () => (await fetch(`http://127.0.0.1:${gateway.port}/readyz`)).status;
    const becomes = (wanted: number, when: string) =>
      eventually(
        readiness,
        (status) => status === wanted,
        (status) => `readyz ${status} ${when}`,
      );
    try {
      await becomes(200, 'with Redis up');
      await upForTwoSeconds(gateway);
      redis.stop();
      await becomes(503, 'with Redis stopped');
      redis = await startRedis(port);
      await becomes(200, 'after Redis started again');
    } finally {
      redis.stop();
      expect(await gateway.stop()).toBe(0);
    }
    expect(gateway.lines[0].startedFrom).toEqual({ code: 'snapshot' });
  }, 30_000);

  it('from the snapshot, closes a WebSocket that sends no SIP within FIRST_REQUEST_TIMEOUT_MS, seconds after the start', async () => {
    const gateway = await start(dist, { FIRST_REQUEST_TIMEOUT_MS: '300' });
    let closed: number | undefined;
    try {
      await upForTwoSeconds(gateway);
      const socket = new WebSocket(`ws://127.0.0.1:${gateway.port}/sip`, 'sip');
      closed = await new Promise<number>((resolve) => socket.once('close', resolve));
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
    expect(gateway.lines[0].startedFrom).toEqual({ code: 'snapshot' });
    expect(closed).toBe(1008);
  }, 30_000);

  it('starts from the bundle, saying so, when there is no snapshot', async () => {
    const gateway = await start(distCopy({ blob: false }));
    expect(await gateway.stop()).toBe(0);
    expect(gateway.lines[0].startedFrom.code).toBe('bundle');
    expect(gateway.lines[0].startedFrom.fallback).toMatch(/no start-up snapshot/);
  });

  it('refuses to start, naming the file, when node-flags (the V8 flags it starts node with) is missing', async () => {
    const run = runStartScript(distCopy({ flags: false }), {});
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/node-flags is missing: npm run build writes it/);
  });

  it('starts from the bundle when V8 flags in NODE_OPTIONS make node refuse the snapshot, and from the snapshot when they do not', async () => {
    const refused = await start(dist, { NODE_OPTIONS: '--max-old-space-size=300' });
    expect(await refused.stop()).toBe(0);
    expect(refused.lines[0].startedFrom.fallback).toMatch(/refuses the start-up snapshot with NODE_OPTIONS/);
    const taken = await start(dist, { NODE_OPTIONS: '--enable-source-maps' });
    expect(await taken.stop()).toBe(0);
    expect(taken.lines[0].startedFrom).toEqual({ code: 'snapshot' });
  });

  it('starts every worker of WORKERS=2 from the snapshot, each a worker of its own', async () => {
    const gateway = await start(dist, { WORKERS: '2', UPSTREAM: 'udp:127.0.0.1:5099' }, 2);
    expect(await gateway.stop()).toBe(0);
    expect(gateway.lines.map((line) => line.startedFrom.code)).toEqual(['snapshot', 'snapshot']);
    expect(gateway.lines.map((line) => line.worker).sort()).toEqual([0, 1]);
    expect(new Set(gateway.lines.map((line) => line.pid)).size).toBe(2);
  });
});
