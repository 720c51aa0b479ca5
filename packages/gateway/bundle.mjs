// Bundles the compiled gateway into one ES module for `npm start`. Node 20 spends most of its
// start-up resolving and compiling hundreds of small ES modules (fastify, prom-client, typebox);
// one file roughly halves the time from spawn to listening (measured by `npm run bench:register`).
// Identifiers are kept so that stack traces stay readable without source maps: `npm start` does
// not pass --enable-source-maps, which costs a sixth of the start-up (reading and decoding the
// maps); add it (or NODE_OPTIONS=--enable-source-maps) when a trace must point into src/.
import { rmSync } from 'node:fs';
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
