// What must hold while the start-up snapshot is built. Imported first by entry.ts, so that it is
// in place before any other module is loaded.
import crypto from 'node:crypto';
import v8 from 'node:v8';

const building = v8.startupSnapshot.isBuildingSnapshot();

// Node 20 builds a user-land snapshot in a context without V8's change-array-by-copy methods
// (Array.prototype.toSorted…): node:http calls toSorted when it is loaded. V8 installs the real
// ones in the context it deserializes, so these stand in only while building and are gone before
// the snapshot is written.
const byCopy: Record<string, (this: unknown[], ...args: never[]) => unknown[]> = {
  toSorted(compare?: (a: unknown, b: unknown) => number) {
    return this.slice().sort(compare);
  },
  toReversed() {
    return this.slice().reverse();
  },
};
const added = building ? Object.keys(byCopy).filter((name) => !(name in Array.prototype)) : [];
for (const name of added) {
  Object.defineProperty(Array.prototype, name, { value: byCopy[name], writable: true, configurable: true });
}

// randomUUID() and randomInt() draw from a cache of random bytes that Node fills a batch at a
// time: filled while building, the cache would be in the snapshot, and every process started from
// it would draw the same UUIDs (Call-IDs, tags, branches) until the next refill. While building,
// randomUUID goes around the cache and randomInt refuses, naming itself.
const { randomUUID, randomInt } = crypto;
if (building) {
  crypto.randomUUID = (options) => randomUUID({ ...options, disableEntropyCache: true });
  crypto.randomInt = (() => {
    throw new Error(
      'crypto.randomInt() while the start-up snapshot is built: its cache would be in the snapshot',
    );
  }) as typeof randomInt;
}

if (building) {
  v8.startupSnapshot.addSerializeCallback(() => {
    for (const name of added) delete (Array.prototype as unknown as Record<string, unknown>)[name];
    crypto.randomUUID = randomUUID;
    crypto.randomInt = randomInt;
  });
}
