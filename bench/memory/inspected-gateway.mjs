// The gateway as the benchmarks run it (the bundle `npm start` runs, with its flags), plus
// `--inspect=127.0.0.1:0` so the benchmark can force full garbage collections
// (HeapProfiler.collectGarbage) and read process.memoryUsage() without any code for it in the
// gateway. Used by fuzz and soak.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { bundleCommand, gatewayCommand, gatewayEnv } from '../lib/gateway-process.mjs';
import { memoryMb } from '../lib/processes.mjs';

const MB = 1048576;

/** Resident kB of /proc/PID/smaps summed by kind: glibc's `[heap]`, anonymous maps, files, all. */
async function smapsKb(pid) {
  const text = await readFile(`/proc/${pid}/smaps`, 'utf8');
  const totals = { heap: 0, anon: 0, file: 0, total: 0 };
  let kind = 'anon';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1];
      kind = name === '[heap]' ? 'heap' : name === '' || name.startsWith('[anon') ? 'anon' : 'file';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      totals[kind] += Number(rss[1]);
      totals.total += Number(rss[1]);
    }
  }
  return totals;
}

/**
 * Starts the gateway on `port` with `env` beside the benchmarks' usual settings (an allocator's
 * variables such as LD_PRELOAD or MALLOC_ARENA_MAX go there too); resolves once it answers and
 * its inspector is connected. Stop it with `stop()` (its PID only).
 */
export async function startInspectedGateway({
  port,
  env = {},
  adminToken,
  nodeFlags = [],
  entry = gatewayCommand.at(-1),
}) {
  // Flags given here come after npm start's own, so they win (`--max-semi-space-size=16`); node
  // refuses the start-up snapshot under V8 flags other than its build's, so with any the gateway
  // runs from the bundle, as start.sh would.
  const flags = (nodeFlags.length > 0 ? bundleCommand : gatewayCommand).slice(0, -1);
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', ...flags, ...nodeFlags, entry], {
    env: { ...process.env, ...gatewayEnv(port, { ADMIN_TOKEN: adminToken, ...env }) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stderr = '';
  const inspectorUrl = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
      if (url) resolve(url);
    });
    exited.then((code) => reject(new Error(`the gateway exited with ${code}: ${stderr}`)));
  });
  const inspector = new WebSocket(inspectorUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    inspector.once('open', resolve);
    inspector.once('error', reject);
  });
  let nextId = 0;
  const pending = new Map();
  inspector.on('message', (data) => {
    const reply = JSON.parse(data.toString());
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, (reply) =>
        reply.error ? reject(new Error(reply.error.message)) : resolve(reply.result),
      );
      inspector.send(JSON.stringify({ id, method, params }));
    });
  const evaluate = async (expression) =>
    (await call('Runtime.evaluate', { expression, returnByValue: true })).result.value;

  for (let deadline = Date.now() + 10_000; ; ) {
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const rssMb = () => memoryMb(child.pid);
  const scrape = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const text = await response.text();
    const gauge = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    return {
      series: text.split('\n').filter((l) => l && !l.startsWith('#')).length,
      transactions: gauge('ringway_proxy_transactions'),
      connections: gauge('ringway_ws_connections'),
      internalErrors: gauge('ringway_sip_internal_errors_total'),
      eventLoopP99Ms: gauge('nodejs_eventloop_lag_p99_seconds') * 1000,
    };
  };

  return {
    pid: child.pid,
    rssMb,
    scrape,
    /** Full garbage collections (twice: the first may only promote what the second frees). */
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
    },
    /** Writes a heap snapshot (for Chromium's DevTools, Memory tab) to `path`. */
    async heapSnapshot(path) {
      const chunks = [];
      const onChunk = (data) => {
        const message = JSON.parse(data.toString());
        if (message.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(message.params.chunk);
      };
      inspector.on('message', onChunk);
      await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      inspector.off('message', onChunk);
      await writeFile(path, chunks.join(''));
    },
    /** RSS, process.memoryUsage() in MB and /proc/PID/smaps resident MB by kind. */
    async memory() {
      const usage = JSON.parse(await evaluate('JSON.stringify(process.memoryUsage())'));
      const smaps = await smapsKb(child.pid);
      return {
        rssMb: await rssMb(),
        heapMb: usage.heapUsed / MB,
        heapTotalMb: usage.heapTotal / MB,
        externalMb: usage.external / MB,
        arrayBuffersMb: usage.arrayBuffers / MB,
        mallocHeapMb: smaps.heap / 1024,
        anonMb: smaps.anon / 1024,
        fileMb: smaps.file / 1024,
      };
    },
    async stop() {
      inspector.close();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
