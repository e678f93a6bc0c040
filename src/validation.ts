import { z } from 'zod';
import { InvalidRequestError } from './errors.ts';

/** Describes a received value briefly: `0 (number)`, `"robot" (string)`, `[3 items] (array)`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.length} items] (array)`;
  if (typeof value === 'function') return `a function`;
  if (typeof value === 'object') return `{${Object.keys(value).slice(0, 5).join(', ')}} (object)`;
  if (typeof value === 'string') return `${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)} (string)`;
  return `${String(value)} (${typeof value})`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? '(root)' : out;
}

export function formatIssue(issue: z.core.$ZodIssue): string {
  const where = `\`${formatPath(issue.path)}\``;
  if (issue.code === 'unrecognized_keys') return `${where}: unknown option(s) ${issue.keys.map((k) => `\`${k}\``).join(', ')}`;
  // Zod says "received string"; the value itself, described, says more.
  const message = issue.message.replace(/^Invalid input: /, '').replace(/, received \w+$/, '');
  const received = 'input' in issue ? `, got ${describeValue(issue.input)}` : '';
  return `${where}: ${message}${received}`;
}

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

export const positiveInt = (max: number) => z.number().int().min(1).max(max);
export const nonNegativeInt = (max: number) => z.number().int().min(0).max(max);
