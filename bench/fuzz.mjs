// npm run fuzz -- [--count N] [--seed S] [--connections C]
// The long fuzz run of issue 11: N fuzzed SIP messages (the CI suite's mutator, seeded) against
// the built gateway in its own process. Prints messages/s, answers by status, RSS and heap
// before and after (each after full garbage collections, once the transactions the run left
// have timed out), the Prometheus series count, and internal errors (which must be 0).
import { parseArgs } from 'node:util';
import { freeTcpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { runFuzz } from '../packages/gateway/test/support/sip-fuzz.mjs';
import { startMeasuredGateway } from './lib/measured-gateway.mjs';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '20261202' },
    connections: { type: 'string', default: '8' },
  },
});
const count = Number(values.count);
const port = await freeTcpPort();
const gateway = await startMeasuredGateway({
  PORT: String(port),
  SIP_DOMAIN: 'ringway.test',
  RATE_MESSAGES_PER_SECOND: '1000000',
  RATE_MESSAGE_BURST: '1000000',
});
const settled = async () => {
  // What the run left in flight (unanswered INVITEs, lingering transactions) ends on its timers.
  for (let m = await gateway.measure(); m.transactions > 0; m = await gateway.measure())
    await new Promise((r) => setTimeout(r, 1000));
  return gateway.measure(true);
};
const before = await settled();
const started = performance.now();
const result = await runFuzz({
  url: `ws://127.0.0.1:${port}/sip`,
  domain: 'ringway.test',
  count,
  seed: Number(values.seed),
  connections: Number(values.connections),
});
const seconds = (performance.now() - started) / 1000;
const during = await gateway.measure(true);
const after = await settled();
await gateway.stop();

const mb = (n) => `${n.toFixed(1)} MB`;
console.log(
  `fuzzed ${result.sent} messages in ${seconds.toFixed(1)} s: ${Math.round(result.sent / seconds)} messages/s`,
);
console.log('answers by status:', JSON.stringify(result.answers));
console.log(
  `requests forwarded to the fuzzing clients: ${result.forwarded}; reconnections: ${result.reconnects}`,
);
console.log('mutations applied:', JSON.stringify(result.mutations));
console.log(
  `RSS before ${mb(before.rssMb)}, right after ${mb(during.rssMb)}, after the transactions ended and GC ${mb(after.rssMb)} (${after.rssMb - before.rssMb >= 0 ? '+' : ''}${mb(after.rssMb - before.rssMb)})`,
);
console.log(
  `V8 heap used before ${mb(before.heapMb)}, after ${mb(after.heapMb)}; heap committed ${mb(before.heapTotalMb)} → ${mb(after.heapTotalMb)}; external ${mb(before.externalMb)} → ${mb(after.externalMb)}`,
);
console.log(
  `metric series before ${before.series}, after ${after.series}; internal errors ${after.internalErrors}`,
);
process.exit(after.internalErrors === 0 ? 0 : 1);
