// The handler modules a worker host allows for `execute` sessions. An execute task names a module
// to import and run with this host's environment (its provider keys included): the host never takes
// that name from Redis alone. Only modules the host itself lists run, compared as file: URLs
// (exactly as the producer resolves `handler`: an existing file's URL, no symlink resolution).
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidRequestError } from '../../errors/errors.ts';
import { describeValue } from '../../util/validation.ts';

function invalid(issue: string): never {
  throw new InvalidRequestError(`Invalid worker options: ${issue}`, [issue]);
}

function handlerHref(handler: unknown, i: number): string {
  const where = `\`handlers[${i}]\``;
  if (!(handler instanceof URL) && typeof handler !== 'string') invalid(`${where}: expected a module path or file: URL, got ${describeValue(handler)}`);
  let url: URL;
  try {
    url =
      handler instanceof URL
        ? handler
        : /^[a-z][a-z0-9+.-]*:/i.test(handler) && !/^[a-z]:[\\/]/i.test(handler)
          ? new URL(handler)
          : pathToFileURL(resolve(handler));
  } catch {
    invalid(`${where}: expected a module path or file: URL, got ${describeValue(handler)}`);
  }
  if (url.protocol !== 'file:') invalid(`${where}: expected a module file (a path or a file: URL), got a ${url.protocol} URL`);
  if (!(statSync(fileURLToPath(url), { throwIfNoEntry: false })?.isFile() ?? false))
    invalid(`${where}: expected an existing module file, got ${describeValue(url.href)}`);
  return url.href;
}

/** The allowed modules as file: URL strings; empty (the default) means chat sessions only. */
export function resolveHandlers(handlers: unknown): ReadonlySet<string> {
  if (handlers === undefined) return new Set();
  if (!Array.isArray(handlers)) invalid(`\`handlers\`: expected an array of module paths or file: URLs, got ${describeValue(handlers)}`);
  return new Set(handlers.map(handlerHref));
}
