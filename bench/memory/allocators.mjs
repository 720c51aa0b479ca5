// The memory allocators the gateway can run under, by the environment that selects each.
import { existsSync, readdirSync } from 'node:fs';

/** Debian's libjemalloc2 (`apt-get install libjemalloc2`), in this machine's multiarch folder. */
export const JEMALLOC = readdirSync('/usr/lib')
  .filter((name) => name.endsWith('-linux-gnu'))
  .map((dir) => `/usr/lib/${dir}/libjemalloc.so.2`)
  .find((path) => existsSync(path));

/** The environment of a gateway under `name` ('glibc' or 'jemalloc'); throws if it is not installed. */
export function allocatorEnv(name) {
  if (name === 'glibc') return {};
  if (name !== 'jemalloc') throw new Error(`no allocator "${name}": glibc or jemalloc`);
  if (!JEMALLOC) throw new Error('jemalloc is not installed: apt-get install libjemalloc2');
  return { LD_PRELOAD: JEMALLOC };
}
