// Where `sessionpool worker` finds its secrets: files and the environment, never a flag's value
// (every user of the machine can read a process's arguments with `ps`). Messages name the file or
// variable, never what is in it.
import { readJsonFileSync } from './config-file.ts';
import { MAX_SECRET_FILE_BYTES, readTextFileSync } from './bounded-read.ts';

function usageError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** A file holding one secret; a trailing newline (as `echo` and editors leave) is not part of it. */
export function readSecretFile(flag: string, path: string): string {
  let text: string;
  try {
    text = readTextFileSync(path, MAX_SECRET_FILE_BYTES);
  } catch (error) {
    throw usageError(`--${flag}: could not read "${path}" (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw usageError(`--${flag}: "${path}" is empty`);
  return secret;
}

/** The Redis URL with the password from --redis-password-file or REDIS_PASSWORD, when one is given (it replaces the URL's). */
export function redisURL(url: string, passwordFile: string | undefined): string {
  const password = passwordFile !== undefined ? readSecretFile('redis-password-file', passwordFile) : process.env['REDIS_PASSWORD'] || undefined;
  if (password === undefined) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError('--redis: expected a redis:// or rediss:// URL');
  }
  // Percent-encoded whole: the connection decodes it, whatever characters the password holds.
  parsed.password = encodeURIComponent(password);
  return parsed.href;
}

/** True when the URL given as a flag carries a password (visible to `ps`). */
export function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/** A JSON config file; a syntax error is reported by position only (Node quotes the text, which may hold a secret). */
export function readJSONFile(path: string): Record<string, unknown> {
  // Read and parsed as every command reads the operator's JSON (config-file.ts): never quoted.
  const value = readJsonFileSync(path);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw usageError(`--config: "${path}" must hold a JSON object of createWorker() options`);
}
