// Optional peer dependencies (`ws`, `@statelyai/inspect`): only the live view and the Stately relay
// need them, so a lean install leaves them out and they are imported when those start.
import { createRequire } from 'node:module';
import { MissingPeerDependencyError } from './errors.ts';

/**
 * Runs `load` (a dynamic `import()` of `packageName`, so that its types are kept) and turns "not
 * installed" into a MissingPeerDependencyError; any other failure is rethrown as it is.
 */
export async function importPeer<T>(packageName: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isNotFound(error, packageName)) throw new MissingPeerDependencyError(packageName, feature, { cause: error });
    throw error;
  }
}

function isNotFound(error: unknown, packageName: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // Node names the package it could not find ("Cannot find package 'ws' imported from ...").
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${packageName}`);
}

/**
 * Loads an optional peer synchronously (CommonJS `require`), or undefined when it is not installed:
 * for a peer whose absence only turns a feature off (`@opentelemetry/api`), and which has to be
 * there from the first session on, not after an `import()` resolved. Any other failure is rethrown.
 */
export function requirePeer<T>(packageName: string): T | undefined {
  try {
    return createRequire(import.meta.url)(packageName) as T;
  } catch (error) {
    if (isNotFound(error, packageName)) return undefined;
    throw error;
  }
}
