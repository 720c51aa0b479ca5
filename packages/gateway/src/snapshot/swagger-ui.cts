// @fastify/swagger-ui in the start-up snapshot's bundle: it stays a package (it serves its files
// from its own folder), and neither way of loading a package works from a snapshot — its require()
// knows only Node's modules, and import() has no loader once it runs. This module is evaluated on
// the first /docs request and requires it from beside the entry, as the bundle's import() would.
import path = require('node:path');

const besideEntry = process
  .getBuiltinModule('node:module')
  .createRequire(path.resolve(process.argv[1] ?? ''));
export = besideEntry('@fastify/swagger-ui');
