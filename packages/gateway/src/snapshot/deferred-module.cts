import v8 = require('node:v8');

/**
 * A stand-in, in the start-up snapshot's bundle, for a module that cannot be loaded while a
 * snapshot is built (bundle.mjs maps imports of it here): the real one is loaded on first use
 * once the snapshot runs. While it is built only the values of `whileBuilding` can be read, and
 * reading anything else fails the build naming it, so that a dependency that starts using more of
 * the module at load is caught there, not in production.
 */
function deferredModule<T extends object>(
  name: string,
  load: () => T,
  whileBuilding: Record<string, unknown> = {},
): T {
  let real: T | undefined;
  const bound = new Map<PropertyKey, unknown>();
  const module = () => {
    real ??= load();
    return real as Record<PropertyKey, unknown>;
  };
  return new Proxy({} as T, {
    get(_, key) {
      if (v8.startupSnapshot.isBuildingSnapshot()) {
        // esbuild's interop reads __esModule of every CommonJS module it imports.
        if (typeof key === 'symbol' || key === '__esModule') return undefined;
        if (Object.hasOwn(whileBuilding, key)) return whileBuilding[key];
        throw new Error(
          `${name}.${key} is read while the start-up snapshot is built, and ${name} cannot be in a snapshot: give it to deferredModule's whileBuilding (src/snapshot/) or read it later`,
        );
      }
      const value = module()[key];
      // Functions get the module as `this` (cluster.on); classes stay themselves (instanceof, new).
      if (typeof value !== 'function' || /^[A-Z]/.test(String(key))) return value;
      if (!bound.has(key)) bound.set(key, value.bind(real));
      return bound.get(key);
    },
    set(_, key, value) {
      module()[key] = value;
      return true;
    },
  });
}
export = deferredModule;
