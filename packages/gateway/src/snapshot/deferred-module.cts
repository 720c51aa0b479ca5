import v8 = require('node:v8');

/** The names each stood-in module exports, in the node building the snapshot (bundle.mjs defines it; the same node runs it). */
declare const RINGWAY_BUILTIN_KEYS: Record<string, string[]>;

/**
 * A stand-in, in the start-up snapshot's bundle, for one of Node's modules that cannot be loaded
 * while a snapshot is built (bundle.mjs maps imports of it here): an object with the module's
 * exports as getters that load the real module on first use, once the snapshot runs. Being the
 * same names as own properties lets esbuild's interop copy them at load (`import { connect } from
 * 'node:tls'`). While the snapshot is built only the values of `whileBuilding` can be read, and
 * reading anything else fails the build naming it, so that a dependency that starts using more of
 * the module at load is caught there, not in production.
 */
function deferredModule<T extends object>(
  name: string,
  load: () => T,
  whileBuilding: Record<string, unknown> = {},
): T {
  let real: Record<string, unknown> | undefined;
  const module = () => {
    real ??= load() as Record<string, unknown>;
    return real;
  };
  const standIn = {};
  for (const key of RINGWAY_BUILTIN_KEYS[name] ?? []) {
    let bound: [unknown, unknown] | undefined;
    Object.defineProperty(standIn, key, {
      enumerable: true,
      configurable: true,
      get() {
        if (v8.startupSnapshot.isBuildingSnapshot()) {
          if (Object.hasOwn(whileBuilding, key)) return whileBuilding[key];
          throw new Error(
            `${name}.${key} is read while the start-up snapshot is built, and ${name} cannot be in a snapshot: give it to deferredModule's whileBuilding (src/snapshot/) or read it later`,
          );
        }
        const value = module()[key];
        // Functions get the module as `this` (cluster.on); classes stay themselves (instanceof, new).
        if (typeof value !== 'function' || /^[A-Z]/.test(key)) return value;
        if (bound?.[0] !== value) bound = [value, value.bind(real)];
        return bound[1];
      },
      set(value: unknown) {
        module()[key] = value;
      },
    });
  }
  return standIn as T;
}
export = deferredModule;
