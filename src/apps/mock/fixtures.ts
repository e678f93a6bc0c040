/** Fixture bodies (loaded once, from src/apps/mock/fixtures) and dialect-shaped error bodies. */
import glmErrors from './fixtures/glm/errors.json' with { type: 'json' };
import glmWebSearch from './fixtures/glm/web-search.json' with { type: 'json' };
import kimiErrors from './fixtures/kimi/errors.json' with { type: 'json' };
import type { MockBehaviour, MockDialect } from './types.ts';

export interface ErrorEntry {
  status: number;
  body: { error: Record<string, unknown> };
}

type ErrorTable = Readonly<Record<string, ErrorEntry>>;

/** OpenAI error bodies: Kimi's `{message, type}` plus the `param` and `code` OpenAI adds. */
const openaiErrors: ErrorTable = Object.fromEntries(
  Object.entries(kimiErrors as ErrorTable).map(([key, entry]) => [
    key,
    { status: entry.status, body: { error: { ...entry.body.error, param: null, code: null } } },
  ]),
);

const ERRORS: Record<MockDialect, ErrorTable> = {
  kimi: kimiErrors as ErrorTable,
  glm: glmErrors as ErrorTable,
  openai: openaiErrors,
};

/** The `web_search` sources GLM returns next to `choices` (fixtures/glm/web-search.json). */
export const GLM_WEB_SEARCH: readonly unknown[] = glmWebSearch.web_search;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_authentication_error',
  403: 'permission_denied_error',
  404: 'resource_not_found_error',
  429: 'rate_limit_reached_error',
};

/** An error body in the dialect's shape, for cases without a fixture. */
export function genericError(dialect: MockDialect, status: number, message: string): ErrorEntry {
  if (dialect === 'glm') return { status, body: { error: { code: String(status), message } } };
  const error: Record<string, unknown> = { message, type: ERROR_TYPES[status] ?? 'server_error' };
  if (dialect === 'openai') Object.assign(error, { param: null, code: null });
  return { status, body: { error } };
}

/** A fixture by key ('429_rate_limit', '429_concurrency', '401'...), GLM code ('1302') or Kimi type. */
export function findError(dialect: MockDialect, key: string): ErrorEntry | undefined {
  const table = ERRORS[dialect];
  return table[key] ?? Object.values(table).find((e) => e.body.error.code === key || e.body.error.type === key);
}

/**
 * The error a behaviour asks for: `errorBody` as-is (status default 500); else the fixture named
 * by `error` (its status unless `status` is given); else the dialect's first fixture with
 * `status` (default 500); else a generic dialect-shaped body.
 */
export function errorFor(dialect: MockDialect, b: MockBehaviour): { status: number; body: unknown } {
  if (b.errorBody !== undefined) return { status: b.status ?? 500, body: b.errorBody };
  const status = b.status ?? 500;
  const entry = b.error !== undefined ? findError(dialect, b.error) : Object.values(ERRORS[dialect]).find((e) => e.status === status);
  if (entry) return { status: b.status ?? entry.status, body: entry.body };
  return genericError(dialect, status, `mock error${b.error === undefined ? '' : ` ${b.error}`} (HTTP ${status})`);
}
