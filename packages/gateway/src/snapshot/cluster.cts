// node:cluster in the start-up snapshot (see deferred-module.cts): it decides when first loaded whether this process is the primary or a worker (NODE_UNIQUE_ID), which must be the running process's answer, not the build's.
import type Module = require('node:cluster');
import deferredModule = require('./deferred-module.cjs');

const cluster: typeof Module = deferredModule('node:cluster', () => process.getBuiltinModule('node:cluster'));
export = cluster;
