import { z } from 'zod';
import { quoteURL, scrubURLs, splitURL } from './redact.ts';

/** Describes a received value briefly: `0 (number)`, `"robot" (string)`, `[3 items] (array)`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.length} items] (array)`;
  if (typeof value === 'function') return `a function`;
  if (typeof value === 'object') return `{${Object.keys(value).slice(0, 5).join(', ')}} (object)`;
  if (typeof value === 'string') {
    // A URL's user:password part is a credential, written encoded or not: never quoted back.
    // A URL mistyped (`redis:/u:pw@host`, `redis//u:pw@host`) is no URL to a parser but still holds
    // its password: a `:` before an `@` is taken for user:password, and all before the last `@` is left out.
    const shown = splitURL(value) !== undefined || /:[\s\S]*@/.test(value) ? quoteURL(value) : scrubURLs(value);
    return `${JSON.stringify(shown.length > 60 ? `${shown.slice(0, 60)}…` : shown)} (string)`;
  }
  return `${String(value)} (${typeof value})`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? '(root)' : out;
}

/** Fields whose values are credentials: their received values are described by type only. */
const SECRET_PATH = /apikey|authorization|headers|token|secret|password/i;

export function formatIssue(issue: z.core.$ZodIssue): string {
  const where = `\`${formatPath(issue.path)}\``;
  if (issue.code === 'unrecognized_keys') return `${where}: unknown option(s) ${issue.keys.map((k) => `\`${k}\``).join(', ')}`;
  // Zod says "received string"; the value itself, described, says more.
  const message = issue.message.replace(/^Invalid input: /, '').replace(/, received \w+$/, '');
  const secret = issue.path.some((key) => typeof key === 'string' && SECRET_PATH.test(key));
  const received = !('input' in issue) ? '' : secret ? `, got a value of type ${typeof issue.input}` : `, got ${describeValue(issue.input)}`;
  return `${where}: ${message}${received}`;
}

export const positiveInt = (max: number) => z.number().int().min(1).max(max);
export const nonNegativeInt = (max: number) => z.number().int().min(0).max(max);

function describeKind(value: unknown): string | undefined {
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a Symbol';
  return undefined;
}

function isPlainData(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return Array.isArray(value) || proto === Object.prototype || proto === null || typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/** How deep JSON data in a request may nest (objects and arrays). */
export const MAX_JSON_DEPTH = 1000;

/**
 * Why `value` is not JSON data (what is sent to the provider must be), naming where: a cycle, a
 * BigInt, a function, a Symbol, or an object that JSON would silently empty (Map, Set, class instances).
 */
export function jsonDataIssue(value: unknown, path: string, ancestors: object[] = []): string | undefined {
  const kind = describeKind(value);
  if (kind !== undefined) return `\`${path}\`: expected JSON data, got ${kind}`;
  if (typeof value !== 'object' || value === null) return undefined;
  // Deeper than this, this walk (and every later one: zod, the schema check) would overflow the stack: a bare RangeError.
  if (ancestors.length >= MAX_JSON_DEPTH) return `\`${path.split(/[.[]/, 1)[0]}\`: expected JSON data nested at most ${MAX_JSON_DEPTH} levels deep, got deeper`;
  if (ancestors.includes(value)) return `\`${path}\`: expected JSON data, got a cycle (the value contains itself)`;
  if (!isPlainData(value)) return `\`${path}\`: expected JSON data, got ${value.constructor?.name ?? 'an object'} (not a plain object)`;
  if (Object.getOwnPropertySymbols(value).length > 0) return `\`${path}\`: expected JSON data, got an object with Symbol keys`;
  ancestors.push(value);
  try {
    const entries: Array<[string, unknown]> = Array.isArray(value)
      ? value.map((item, i) => [`[${i}]`, item])
      : Object.entries(value).map(([k, v]) => [`.${k}`, v]);
    for (const [key, item] of entries) {
      const issue = jsonDataIssue(item, `${path}${key}`, ancestors);
      if (issue !== undefined) return issue;
    }
    return undefined;
  } finally {
    ancestors.pop();
  }
}

/**
 * Why `value` cannot be an HTTP header value, without ever quoting it (it is often a credential):
 * fetch refuses line breaks, NUL and characters beyond Latin-1.
 */
/** C0 controls but tab (CR, LF and NUL have messages of their own) and DEL. */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
}

export function headerValueIssue(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return 'contains a line break (CR or LF), which a header value cannot hold';
  if (value.includes('\0')) return 'contains a NUL character, which a header value cannot hold';
  // fetch refuses them only when it writes the request: a "connection error", retried as one.
  if ([...value].some((char) => isControl(char.charCodeAt(0)))) return 'contains a control character (other than tab), which a header value cannot hold';
  if ([...value].some((char) => (char.codePointAt(0) ?? 0) > 0xff))
    return 'contains characters beyond Latin-1 (code points above 255), which a header value cannot hold';
  return undefined;
}

/** A header name fetch accepts (an HTTP token). */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
