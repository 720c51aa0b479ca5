// node:http2 in the start-up snapshot (see deferred-module.cts): its binding cannot be serialized in Node 20.
import type Module = require('node:http2');
import deferredModule = require('./deferred-module.cjs');

const http2: typeof Module = deferredModule('node:http2', () => process.getBuiltinModule('node:http2'));
export = http2;
