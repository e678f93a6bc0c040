/** Parsing and merging of per-request mock behaviour (pure functions). */
import type { MockBehaviour, MockMessage, MockRequestBody } from './types.ts';

type FieldKind = 'number' | 'boolean' | 'string';

/** The fields a `[[mock ...]]` directive can set, with the type each is coerced to. */
const DIRECTIVE_FIELDS: Record<string, FieldKind> = {
  latencyMs: 'number',
  completionTokens: 'number',
  lengthRounds: 'number',
  chunks: 'number',
  chunkDelayMs: 'number',
  tokensPerSec: 'number',
  errorRate: 'number',
  status: 'number',
  failTimes: 'number',
  retryAfterMs: 'number',
  hangAfterChunks: 'number',
  dripMs: 'number',
  dripBytes: 'number',
  streamErrorAfter: 'number',
  hang: 'boolean',
  noFinish: 'boolean',
  noDone: 'boolean',
  streamErrorEvent: 'boolean',
  streamError: 'string',
  statusText: 'string',
  content: 'string',
  reasoning: 'string',
  refusal: 'string',
  finishReason: 'string',
  error: 'string',
  key: 'string',
  retryAfter: 'string',
  reset: 'string',
  garbage: 'string',
};

const ENUMS: Record<string, readonly string[]> = { reset: ['before', 'mid'], garbage: ['body', 'chunk'] };

const DIRECTIVE = /\[\[mock\b([^\]]*)\]\]/g;
const TOKEN = /([A-Za-z_]\w*)(?:=(?:"([^"]*)"|(\S+)))?/g;
const NUMBER = /^-?\d+(?:\.\d+)?$/;

function parseValue(quoted: string | undefined, raw: string | undefined): string | number | boolean {
  if (quoted !== undefined) return quoted;
  if (raw === undefined || raw === 'true') return true;
  if (raw === 'false') return false;
  return NUMBER.test(raw) ? Number(raw) : raw;
}

function coerce(kind: FieldKind, value: string | number | boolean): string | number | boolean | undefined {
  if (kind === 'string') return typeof value === 'boolean' ? undefined : String(value);
  if (kind === 'number') return typeof value === 'number' ? value : undefined;
  return typeof value === 'boolean' ? value : typeof value === 'number' ? value !== 0 : undefined;
}

/**
 * Parses every `[[mock key=value key="quoted value" flag]]` directive in `text` (later ones win).
 * Values: numbers become numbers, `true`/`false` booleans, a bare word is `true`, anything else a
 * string (no spaces unless double-quoted); then each known field is coerced to its type (e.g.
 * `error=500` or `key=7` stay strings). Unknown fields and values of the wrong type are ignored.
 * @example
 * ```ts
 * import { parseMockDirective } from 'sessionpool/mock';
 *
 * console.log(parseMockDirective('Hello [[mock status=429 retryAfter=2 hang content="two words"]]'));
 * // { status: 429, retryAfter: '2', hang: true, content: 'two words' }
 * ```
 */
export function parseMockDirective(text: string): MockBehaviour {
  const out: Record<string, unknown> = {};
  if (!text.includes('[[mock')) return out;
  for (const directive of text.matchAll(DIRECTIVE)) {
    for (const [, name = '', quoted, raw] of (directive[1] ?? '').matchAll(TOKEN)) {
      const kind = DIRECTIVE_FIELDS[name];
      if (kind === undefined) continue;
      const value = coerce(kind, parseValue(quoted, raw));
      const allowed = ENUMS[name];
      if (value === undefined || (allowed && !allowed.includes(String(value)))) continue;
      out[name] = value;
    }
  }
  return out;
}

/**
 * Merges behaviours left to right (as the mock merges `defaults`, `behave()`, the body's `mock` and
 * the directive); undefined fields do not override; `headers` objects are merged.
 * @example
 * ```ts
 * import { mergeBehaviours } from 'sessionpool/mock';
 *
 * const merged = mergeBehaviours({ latencyMs: 50, headers: { 'x-a': '1' } }, undefined, { latencyMs: undefined, status: 503, headers: { 'x-b': '2' } });
 * console.log(merged); // { latencyMs: 50, headers: { 'x-a': '1', 'x-b': '2' }, status: 503 }
 * ```
 */
export function mergeBehaviours(...parts: (MockBehaviour | null | undefined)[]): MockBehaviour {
  const out: Record<string, unknown> = {};
  for (const part of parts) {
    if (!part) continue;
    for (const [name, value] of Object.entries(part)) {
      if (value === undefined) continue;
      out[name] = name === 'headers' && out.headers ? { ...(out.headers as object), ...(value as object) } : value;
    }
  }
  return out;
}

/** The text of a message's content: a string, or the `text` of its parts. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: unknown) => (part && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join(' ');
}

export function requestMessages(body: MockRequestBody | null): MockMessage[] {
  const messages = body?.messages;
  return Array.isArray(messages) ? messages.filter((m) => m !== null && typeof m === 'object') : [];
}

export function lastUserText(messages: readonly MockMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return messageText(messages[i]?.content);
  }
  return '';
}

/**
 * The text that carries the directive: the last user message that has one. Continuations add
 * user turns of their own ("continue"), and the directive of the original prompt must still hold.
 */
export function directiveText(messages: readonly MockMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const text = messages[i]?.role === 'user' ? messageText(messages[i]?.content) : '';
    if (text.includes('[[mock')) return text;
  }
  return '';
}

/** The request body's `mock` field when it is an object. */
export function bodyBehaviour(body: MockRequestBody | null): MockBehaviour | undefined {
  const mock = body?.mock;
  return mock !== null && typeof mock === 'object' && !Array.isArray(mock) ? mock : undefined;
}

/** The behaviour the request's own body asks for: its `mock` field, then its directive. */
export function requestBehaviour(body: MockRequestBody | null): MockBehaviour {
  return mergeBehaviours(bodyBehaviour(body), parseMockDirective(directiveText(requestMessages(body))));
}

/** Whether a behaviour asks for an error response regardless of `failTimes`. */
export function wantsError(b: MockBehaviour): boolean {
  return b.errorBody !== undefined || b.error !== undefined || (b.status !== undefined && b.status >= 400);
}

/**
 * Decides whether this request gets the error. With `failTimes` or `errorRate`, counts the request
 * under its `key` in `counts` (mutated) and fails the first `failTimes` of them, or those that
 * `errorRate`'s pattern picks (status default 500).
 */
export function shouldFail(b: MockBehaviour, counts: Map<string, number>): boolean {
  if (b.failTimes === undefined && b.errorRate === undefined) return wantsError(b);
  const key = b.key ?? '';
  const seen = (counts.get(key) ?? 0) + 1;
  counts.set(key, seen);
  if (b.errorRate !== undefined) return failsAtRate(seen, b.errorRate);
  return seen <= (b.failTimes ?? 0);
}

/** Whether the n-th request fails at `rate` (0 to 1): a fixed pattern with exactly that long-run rate. */
export function failsAtRate(n: number, rate: number): boolean {
  const r = Math.min(1, Math.max(0, rate));
  // The epsilon keeps products such as 10 × 0.3 = 2.9999999999999996 on their integer.
  return Math.floor(n * r + 1e-9) > Math.floor((n - 1) * r + 1e-9);
}
