// The checks that turn bad input into ERR_INVALID_REQUEST before any work: a schema's issues, a
// value that cannot cross a thread, a value that is not JSON data.
import type { z } from 'zod';
import { formatIssue, jsonDataIssue } from '../util/validation.ts';
import { InvalidRequestError } from './errors.ts';

/** Parses `value` with `schema`, or throws ERR_INVALID_REQUEST naming every field that is wrong. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(formatIssue);
  throw new InvalidRequestError(`Invalid ${what}: ${issues.join('; ')}`, issues);
}

/** Throws when `value` cannot cross a thread boundary (functions, symbols, class instances that do not clone). */
export function assertCloneable(value: unknown, path: string): void {
  try {
    structuredClone(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const issue = `\`${path}\`: expected plain JSON-like data, got a value that cannot be sent to a worker (${reason})`;
    throw new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
  }
}

/** Throws ERR_INVALID_REQUEST (`what` says which input) when `value` is not JSON data. */
export function assertJsonData(value: unknown, path: string, what = 'request'): void {
  const issue = jsonDataIssue(value, path);
  if (issue !== undefined) throw new InvalidRequestError(`Invalid ${what}: ${issue}`, [issue]);
}
