// Bundles the compiled gateway into one ES module for `npm start`. Node 20 spends most of its
// start-up resolving and compiling hundreds of small ES modules (fastify, prom-client, typebox);
// one file roughly halves the time from spawn to listening (measured by `npm run bench:register`).
// Identifiers are kept so that stack traces stay readable.
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
await build({ ...common, entryPoints: ['dist/main.js'], outfile: 'dist/gateway.mjs' });
// `npm run user`: the users file's command, a file of its own so that it runs where the gateway does.
await build({ ...common, entryPoints: ['dist/cli/user.js'], outfile: 'dist/user.mjs' });
// The container's health check (docker-compose.yml): HTTPS or plain HTTP, whichever it serves.
await build({ ...common, entryPoints: ['dist/cli/health-check.js'], outfile: 'dist/health-check.mjs' });
