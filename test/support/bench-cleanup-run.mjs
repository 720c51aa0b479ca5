// A benchmark in miniature for test/bench-cleanup.test.ts: starts through bench/lib what the real
// ones start — Kamailio (kamailio-node.mjs), the gateway bundle, the measured gateway of fuzz and
// soak, Chromium — prints `ready` with the process groups its children lead, then ends as the
// JSON argument's `end` says: 'wait' (for a signal, loading pages meanwhile), 'throw' (an
// uncaught exception), 'reject' (an unhandled rejection) or 'exit' (process.exit(0) with
// everything still running).
import { readdir, readFile } from 'node:fs/promises';
import { launchChromium } from '../../bench/lib/chromium.mjs';
import { gatewayCommand, gatewayEnv } from '../../bench/lib/gateway-process.mjs';
import { startKamailioNode } from '../../bench/lib/kamailio-node.mjs';
import { startMeasuredGateway } from '../../bench/lib/measured-gateway.mjs';
import { startServer } from '../../bench/lib/processes.mjs';

const { kamailio, gatewayPort, measuredPort, browser, end } = JSON.parse(process.argv[2]);

await startKamailioNode({ ...kamailio, secret: 'bench-cleanup-secret', sipDomain: 'ringway.test' });
await startServer(process.execPath, gatewayCommand, {
  port: gatewayPort,
  env: gatewayEnv(gatewayPort, { LOG_LEVEL: 'warn' }),
});
if (measuredPort) await startMeasuredGateway({ PORT: String(measuredPort), LOG_LEVEL: 'warn' });
const chromium = browser ? await launchChromium() : undefined;

/** This process's children (each a group leader: bench/lib and Playwright start them detached). */
async function children() {
  const found = [];
  for (const entry of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === process.pid)
      found.push({
        pid: Number(entry),
        pgid: Number(fields[2]),
        name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      });
  }
  return found;
}

console.log(`ready ${JSON.stringify(await children())}`);
if (end === 'throw')
  setTimeout(() => {
    throw new Error('thrown by the benchmark');
  });
if (end === 'reject') void Promise.reject(new Error('rejected in the benchmark'));
if (end === 'exit') process.exit(0);
setInterval(() => undefined, 60_000);
// As a benchmark does until the signal: uses its browser and gateway, and fails when they go away
// under it (that failure is part of being stopped, not a second error).
while (end === 'wait' && chromium) {
  const page = await chromium.newPage();
  await page.goto(`http://127.0.0.1:${gatewayPort}/healthz`);
  await page.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
}
