// The entry of the V8 start-up snapshot (bundle.mjs: `node --build-snapshot`, one CommonJS file: dist/gateway-snapshot.cjs).
// Building it evaluates every module of the gateway once; `node --snapshot-blob gateway.blob`
// then starts from that heap instead of compiling and running ~1.8 MB of code, and runs the
// function below. Nothing here may make a handle or keep process state at load (the modules do
// not: startGateway does all of that).
import './while-building.js';
import './timers.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { startGateway } from '../start-gateway.js';
import { warmUp } from './warm-up.js';

v8.startupSnapshot.setDeserializeMainFunction(() => {
  const loadedMs = performance.now();
  // start.sh asks once whether node takes the snapshot with the NODE_OPTIONS it was given (V8
  // flags in them make node refuse it): getting here is the answer.
  if (process.env.RINGWAY_SNAPSHOT_PROBE) process.exit(0);
  // The script named on the command line (dist/gateway.mjs): the page is found beside it, and
  // cluster.fork() starts workers with it and the same --snapshot-blob.
  const entry = resolve(process.argv[1] ?? '');
  const entryUrl = pathToFileURL(entry).href;
  startGateway(entryUrl, { code: 'snapshot' }, loadedMs).catch((error) => {
    // What an ES module's top-level await would do with it.
    console.error(error);
    process.exit(1);
  });
});

if (v8.startupSnapshot.isBuildingSnapshot()) {
  // Node writes the snapshot once the event loop is empty, so after this has finished — or when
  // it waits on something that never comes (a timer of the warm-up never runs): then no snapshot.
  // bundle.mjs builds it in packages/gateway: the page is built beside it. A failure leaves no snapshot.
  let warmedUp = false;
  warmUp(resolve('../softphone/dist/page/')).then(
    () => {
      warmedUp = true;
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
  v8.startupSnapshot.addSerializeCallback(() => {
    if (warmedUp) return;
    console.error('the warm-up never finished: it waits on something that never comes');
    process.exit(1);
  });
}
