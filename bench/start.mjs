// npm run bench:start — spawn → first accepted TCP connection for the gateway as `npm start` runs
// it (dist/start.sh: from the V8 start-up snapshot when there is one this node loads), against two
// anchors in the same run: a bare Node `http` server and Kamailio 5.6 (the minimal WebSocket
// registrar of bench:register); and the bundle without the snapshot, which is what start.sh falls
// back to. They alternate round by round, so that a busy moment of the machine falls on all of
// them; medians and ratios at the end. Then one more gateway start with its own log line, which
// gives the time of each start-up phase and says whether it ran from the snapshot. Beside each
// time, the CPU the start took (less stretched by a busy machine). The last line is one JSON
// object: {"gatewayMs", "bareNodeMs", "ratio", …, "cpuRatio"}, medians of this run.
import { readdir, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCommand, describeGateway, gatewayEnv } from './lib/gateway-process.mjs';
import { kamailioRegistrarConfig } from './lib/kamailio-registrar.mjs';
import { spawnGroup, startServer } from './lib/processes.mjs';
import { median } from './lib/statistics.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
// A port each: a server's port may still be closing while the next one starts.
const [GATEWAY_PORT, BARE_PORT, KAMAILIO_PORT] = [18_500, 18_501, 18_502];

// What `npm start` and the Docker image run.
const startScript = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'packages',
  'gateway',
  'dist',
  'start.sh',
);
const GATEWAY = 'Ringway gateway (npm start)';
const BUNDLE = 'gateway bundle, no snapshot';
const BARE = 'bare Node http server';
const KAMAILIO = 'Kamailio 5.6 (WS registrar)';

const servers = {
  [GATEWAY]: () => startServer('sh', [startScript], { port: GATEWAY_PORT, env: gatewayEnv(GATEWAY_PORT) }),
  [BUNDLE]: () =>
    startServer(process.execPath, bundleCommand, { port: GATEWAY_PORT, env: gatewayEnv(GATEWAY_PORT) }),
  [BARE]: () =>
    startServer(
      process.execPath,
      ['-e', `require('node:http').createServer().listen(${BARE_PORT}, '127.0.0.1')`],
      {
        port: BARE_PORT,
      },
    ),
  [KAMAILIO]: () =>
    startServer(
      'kamailio',
      [
        '-DD',
        '-E',
        '-f',
        kamailioRegistrarConfig({ workers: 1, wsPort: KAMAILIO_PORT }),
        '-m',
        '64',
        '-M',
        '8',
      ],
      { port: KAMAILIO_PORT },
    ),
};

const times = Object.fromEntries(Object.keys(servers).map((name) => [name, []]));
const cpu = Object.fromEntries(Object.keys(servers).map((name) => [name, []]));
const loadBefore = loadavg()[0];
for (let round = 0; round < rounds; round++) {
  for (const [name, start] of Object.entries(servers)) {
    const server = await start();
    times[name].push(server.startMs);
    cpu[name].push(await groupCpuMs(server.pid));
    await server.stop();
  }
}

/**
 * CPU time (ms) the processes of group `pgid` (a server: startServer makes it a group's leader)
 * have used so far, every thread, from /proc/<pid>/task/<tid>/schedstat (nanoseconds; the 10 ms
 * ticks of /proc/<pid>/stat are too coarse here). Read once the server accepts, it is the CPU its
 * start-up took: a figure that a busy machine stretches far less than the time does. start.sh's
 * own children (node --version, uname) have exited by then and are not in it.
 */
async function groupCpuMs(pgid) {
  let ns = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat || Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
    for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
      const schedstat = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '0');
      ns += Number(schedstat.split(' ')[0]);
    }
  }
  return ns / 1e6;
}

/** The gateway's own account of its start-up: the phases its start-up log line gives. */
function phases() {
  return new Promise((resolve, reject) => {
    // Through bench/lib like every server: stopped with the benchmark if it is interrupted.
    const { child, stop } = spawnGroup('sh', [startScript], {
      env: gatewayEnv(GATEWAY_PORT),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"startupMs"'));
      if (line) {
        void stop();
        resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before its start-up line`)));
  });
}

const loadAfter = loadavg()[0];
const bare = median(times[BARE]);
console.log(
  `npm start: sh dist/start.sh, which runs the ${describeGateway(gatewayEnv(GATEWAY_PORT)).replace(/^gateway: /, '')}, from the start-up snapshot when there is one`,
);
console.log(
  `spawn → accepting, ${rounds} alternating rounds, medians (load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} at the end)`,
);
console.table(
  Object.fromEntries(
    Object.entries(times).map(([name, values]) => [
      name,
      {
        'median ms': Math.round(median(values)),
        'min ms': Math.round(Math.min(...values)),
        'max ms': Math.round(Math.max(...values)),
        'vs bare Node': `${(median(values) / bare).toFixed(2)}×`,
        'median CPU ms': Math.round(median(cpu[name])),
        'CPU vs bare Node': `${(median(cpu[name]) / median(cpu[BARE])).toFixed(2)}×`,
      },
    ]),
  ),
);
const gateway = median(times[GATEWAY]);
console.log(`ratio gateway / bare Node: ${(gateway / bare).toFixed(2)}× (goal ≤ 1.3×)`);
const line = await phases();
console.log(
  `the gateway's own start-up line: ${JSON.stringify(line.phasesMs ?? {})}, ${line.startupMs} ms in all, from the ${line.startedFrom?.code ?? '?'}${line.startedFrom?.fallback ? ` (${line.startedFrom.fallback})` : ''}`,
);
const ms = (name) => Math.round(median(times[name]));
const cpuMs = (name) => Math.round(median(cpu[name]));
console.log(
  JSON.stringify({
    gatewayMs: ms(GATEWAY),
    bareNodeMs: ms(BARE),
    ratio: Number((gateway / bare).toFixed(2)),
    kamailioMs: ms(KAMAILIO),
    bundleOnlyMs: ms(BUNDLE),
    gatewayCpuMs: cpuMs(GATEWAY),
    bareNodeCpuMs: cpuMs(BARE),
    cpuRatio: Number((median(cpu[GATEWAY]) / median(cpu[BARE])).toFixed(2)),
    bundleOnlyCpuMs: cpuMs(BUNDLE),
    startedFrom: line.startedFrom?.code,
    rounds,
    loadAverage: [Number(loadBefore.toFixed(2)), Number(loadAfter.toFixed(2))],
  }),
);
