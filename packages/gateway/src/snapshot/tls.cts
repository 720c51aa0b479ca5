// node:tls in the start-up snapshot (see deferred-module.cts): its binding cannot be serialized in Node 20.
import type Module = require('node:tls');
import deferredModule = require('./deferred-module.cjs');

const tls: typeof Module = deferredModule('node:tls', () => process.getBuiltinModule('node:tls'));
export = tls;
