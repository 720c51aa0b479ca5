// node:https in the start-up snapshot (see deferred-module.cts): its binding cannot be serialized in Node 20.
import type Module = require('node:https');
import deferredModule = require('./deferred-module.cjs');

const https: typeof Module = deferredModule('node:https', () => process.getBuiltinModule('node:https'));
export = https;
