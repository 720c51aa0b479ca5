// Bundles the compiled gateway into one ES module (dist/gateway.mjs), and from a CommonJS bundle
// of it makes the V8 start-up snapshot `npm start` runs from (dist/start.sh; at the end of this
// file). Node 20 spends most of its start-up resolving and compiling hundreds of small ES modules
// (fastify, prom-client, typebox); one file roughly halves the time from spawn to listening, and
// the snapshot then saves compiling and running it (docs/start-up.md). Identifiers are kept so
// that stack traces stay readable without source maps: `npm start` does not pass
// --enable-source-maps, which costs a sixth of the start-up (reading and decoding the maps); add
// it (or NODE_OPTIONS=--enable-source-maps) when a trace must point into src/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  // swagger-ui serves its own files from its package folder (__dirname): leave it a real package.
  external: ['@fastify/swagger-ui'],
  // Some dependencies are CommonJS and call require(); give the ES module one.
  banner: {
    js: "import { createRequire as __ringwayCreateRequire } from 'node:module'; const require = __ringwayCreateRequire(import.meta.url);",
  },
};
// What is loaded only when needed (Redis, the API docs, making a certificate) goes into chunks of
// its own, read on the first dynamic import() of it, never before `listen()`.
rmSync('dist/chunks', { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { gateway: 'dist/main.js' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
});
// `npm run user`: the users file's command, a file of its own so that it runs where the gateway does.
await build({ ...common, entryPoints: ['dist/cli/user.js'], outfile: 'dist/user.mjs' });
// The compose stack's configuration check (gateway-config): the gateway's own rules, nothing else.
await build({ ...common, entryPoints: ['dist/cli/check-config.js'], outfile: 'dist/check-config.mjs' });
// The container's health check (docker-compose.yml): HTTPS or plain HTTP, whichever it serves.
await build({ ...common, entryPoints: ['dist/cli/health-check.js'], outfile: 'dist/health-check.mjs' });

// The V8 start-up snapshot `npm start` runs from (start.sh): the gateway's modules evaluated once,
// here, and their heap written to gateway.blob, so that a start deserializes it instead of
// compiling and running the bundle (docs/start-up.md). Node takes a snapshot of one CommonJS file
// that may require() only Node's own modules: everything is bundled into it but the optional
// parts, which every start would otherwise deserialize (a tenth of the blob) to run them in few
// configurations: each is a CommonJS bundle of its own in dist/snapshot-parts/, required from
// beside the entry on first use (snapshotParts below), as the packages that stay packages are.
const SNAPSHOT_PARTS = {
  // Only with REDIS_URL.
  ioredis: 'ioredis',
  // On the first /docs request.
  '@fastify/swagger': 'swagger',
  // Only with LOG_FORMAT=pretty (or auto on a terminal).
  'pino-pretty': 'pino-pretty',
  // Only when the gateway makes its own certificate.
  selfsigned: 'selfsigned',
};
// Swagger UI serves its own files from its package folder (__dirname): it stays a package, required
// by name. (Neither way of loading a package works from a snapshot: its require() knows only Node's
// modules, and import() has no loader once it runs.)
const SNAPSHOT_PACKAGES = ['@fastify/swagger-ui'];
rmSync('dist/snapshot-parts', { recursive: true, force: true });
for (const [name, file] of Object.entries(SNAPSHOT_PARTS)) {
  await build({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: process.cwd() },
    outfile: `dist/snapshot-parts/${file}.cjs`,
    format: 'cjs',
    external: [],
    banner: {},
  });
}
await build({
  ...common,
  entryPoints: ['dist/snapshot/entry.js'],
  outfile: 'dist/gateway-snapshot.cjs',
  format: 'cjs',
  plugins: [snapshotStandIns(), snapshotParts()],
  define: {
    RINGWAY_HTTP_STATUS_CODES: JSON.stringify(httpStatusCodes()),
    RINGWAY_BUILTIN_KEYS: JSON.stringify(builtinKeys()),
  },
  // Node's timer queue, which src/snapshot/timers.ts checks is empty when the snapshot is written.
  external: ['internal/timers'],
  // Not the ES module's require() banner: a CommonJS file has one.
  banner: {},
});
copyFileSync('start.sh', 'dist/start.sh');
/** The V8 flags of node-flags (npm start's, the snapshot's), however the file is spaced. */
const v8Flags = readFileSync('node-flags', 'utf8').split(/\s+/).filter(Boolean);
// The flags as one clean line (no CR, one space apart): start.sh compares them, as read, with the stamp.
writeFileSync('dist/node-flags', `${v8Flags.join(' ')}\n`);
buildSnapshot();

/** http.STATUS_CODES, for src/snapshot/http.cts; and a check that its other answers still hold. */
function httpStatusCodes() {
  if (http.websocketMask || http.websocketUnmask) {
    throw new Error(
      'node:http has websocketMask now: give it to src/snapshot/http.cts (ws reads it when loaded)',
    );
  }
  return http.STATUS_CODES;
}

/**
 * The names Node's modules with a stand-in export, for src/snapshot/deferred-module.cts: their own
 * and their prototypes' (node:cluster is an EventEmitter: `cluster.on`).
 */
function builtinKeys() {
  const names = (module) => {
    const all = new Set();
    for (let object = module; object && object !== Object.prototype; object = Object.getPrototypeOf(object)) {
      for (const name of Object.getOwnPropertyNames(object)) if (name !== 'constructor') all.add(name);
    }
    return [...all];
  };
  return Object.fromEntries(
    ['node:http', 'node:https', 'node:http2', 'node:tls', 'node:cluster'].map((name) => [
      name,
      names(process.getBuiltinModule(name)),
    ]),
  );
}

/**
 * The optional parts (SNAPSHOT_PARTS) and packages (SNAPSHOT_PACKAGES) in the snapshot's bundle: a
 * module that requires the part's own bundle from dist/snapshot-parts/, or the package, from beside
 * the entry when first imported, at run time. Imported while the snapshot is built (by the
 * warm-up), it fails the build: a snapshot's require() knows only Node's modules.
 */
function snapshotParts() {
  const names = [...Object.keys(SNAPSHOT_PARTS), ...SNAPSHOT_PACKAGES].map((name) =>
    name.replace(/[/.]/g, '\\$&'),
  );
  return {
    name: 'snapshot-parts',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({
        path: args.path,
        namespace: 'snapshot-part',
      }));
      b.onLoad({ filter: /.*/, namespace: 'snapshot-part' }, (args) => ({
        contents: `const { realpathSync } = require('node:fs');
const besideEntry = process.getBuiltinModule('node:module').createRequire(realpathSync(process.argv[1] ?? ''));
module.exports = besideEntry(${JSON.stringify(SNAPSHOT_PARTS[args.path] ? `./snapshot-parts/${SNAPSHOT_PARTS[args.path]}.cjs` : args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Modules that cannot be loaded while a snapshot is built get a stand-in in the snapshot's bundle
 * (src/snapshot/): Node 20 cannot serialize the bindings of http, https, http2 and tls;
 * node:cluster decides when first loaded whether this process is a worker; depd reads a stack
 * trace when loaded, and stack traces are empty while a snapshot is built.
 */
function snapshotStandIns() {
  return {
    name: 'snapshot-stand-ins',
    setup(b) {
      b.onResolve({ filter: /^(node:)?(http|https|http2|tls|cluster)$|^depd$/ }, (args) => ({
        path: resolve(`dist/snapshot/${args.path.replace(/^node:/, '')}.cjs`),
      }));
    },
  };
}

/**
 * Writes dist/gateway.blob and, beside it, the stamp start.sh compares with the node it is about
 * to run: a snapshot loads only in the node (version, V8 flags) that made it, which refuses any
 * other with exit 14. A node that cannot make one (or a failure making it) leaves no blob, and
 * start.sh runs the bundle.
 */
function buildSnapshot() {
  rmSync('dist/gateway.blob', { force: true });
  rmSync('dist/gateway.blob.stamp', { force: true });
  rmSync('dist/gateway.blob.node', { force: true });
  try {
    execFileSync(
      process.execPath,
      [
        // npm start's (start.sh reads them from node-flags): V8 refuses a snapshot made under others.
        ...v8Flags,
        // For src/snapshot/timers.ts's check of Node's timer queue; a node option, not V8's.
        '--expose-internals',
        '--snapshot-blob',
        'dist/gateway.blob',
        '--build-snapshot',
        'dist/gateway-snapshot.cjs',
      ],
      // Its warnings name the Node modules it has no promise for (http, cluster…): known, not news.
      { stdio: ['ignore', 'inherit', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
  } catch (error) {
    console.warn(
      `no start-up snapshot (npm start will run the bundle): ${String(error.stderr ?? error.message).slice(-3000)}`,
    );
    rmSync('dist/gateway.blob', { force: true });
    return;
  }
  const machine = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
  const builder = realpathSync(process.execPath);
  // The second line names the node that made it, and gateway.blob.node carries its modification
  // time (touch -r makes it with that time exactly): start.sh asks nothing of the node at that path while it
  // still has that time — the same file as at the build, not an upgrade put in its place.
  writeFileSync(
    'dist/gateway.blob.stamp',
    `${process.version} ${machine} ${v8Flags.join(' ')}\n${builder}\n`,
  );
  execFileSync('touch', ['-r', builder, 'dist/gateway.blob.node']);
}
