// Node's on-disk compile cache for the provider-call threads. Every thread compiles its entry's whole
// module graph before its first session: from the .ts sources that graph is type-stripped too, and
// the stripper (a WebAssembly module) is loaded again in every thread, ~100 ms before the first file.
// With NODE_COMPILE_CACHE set in a thread's environment, the thread reads compiled code (and, from
// the sources, stripped code) from the cache. It has to be set there, not by module.enableCompileCache()
// in the worker entry: by the time an entry runs, its own file was compiled (and stripped) already.
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const VARIABLE = 'NODE_COMPILE_CACHE';

/**
 * The environment of a provider-call thread: the host's `process.env` read when the thread starts
 * (what a thread gets by default), plus NODE_COMPILE_CACHE — the folder `module.enableCompileCache()`
 * uses by default — unless the host set it itself or disabled the cache (NODE_DISABLE_COMPILE_CACHE).
 * Only these threads see it: the host's own environment, its compile cache and the handler threads
 * (user code, which may start processes of its own) are left as they are.
 */
export function compileCacheEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const added = (): string | undefined =>
    env[VARIABLE] === undefined && env['NODE_DISABLE_COMPILE_CACHE'] === undefined ? join(tmpdir(), 'node-compile-cache') : undefined;
  // A proxy, not a copy: Node reads a thread's environment when it starts it, so a thread started
  // later (one replacing a thread that exited) sees the host's environment as it is then.
  return new Proxy({} as NodeJS.ProcessEnv, {
    ownKeys: () => {
      const keys = Reflect.ownKeys(env);
      return added() === undefined ? keys : [...keys, VARIABLE];
    },
    getOwnPropertyDescriptor: (_, key) => {
      const value = key === VARIABLE ? (added() ?? env[VARIABLE]) : typeof key === 'string' ? env[key] : undefined;
      return value === undefined ? undefined : { value, enumerable: true, configurable: true, writable: true };
    },
    get: (_, key) => (key === VARIABLE ? (added() ?? env[VARIABLE]) : typeof key === 'string' ? env[key] : undefined),
  });
}
