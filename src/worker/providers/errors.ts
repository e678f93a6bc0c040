import { APIConnectionError, APIError } from 'openai';
import { ProviderResponseError, SessionPoolError, providerErrorClass, toWireError } from '../../errors/errors.ts';
import type { WireError } from '../../types/errors.ts';
import type { Dialect } from '../../types/options.ts';

/** A failed attempt, classified: the wire error plus what the provider said about waiting. */
export interface AttemptFailure {
  error: WireError;
  retryAfterMs?: number;
}

const KIMI_RETRYABLE = new Set(['rate_limit_reached_error', 'engine_overloaded_error', 'server_error']);
const GLM_RETRYABLE = new Set(['1302', '1303', '1305', '500']);
// Account, balance, content and daily-limit codes: asking again cannot succeed, whatever the status.
const GLM_FINAL = new Set(['1113', '1301', '1304']);
const OPENAI_RETRYABLE_STATUS = new Set([408, 409, 429]);
// Codes that say "later" in any dialect (errors sent inside a stream carry no HTTP status).
const RETRYABLE_CODES = new Set([
  ...KIMI_RETRYABLE,
  ...GLM_RETRYABLE,
  'rate_limit_exceeded',
  'rate_limit_error',
  'overloaded',
  'overloaded_error',
  'internal_error',
  'service_unavailable',
  'timeout',
]);
// Words of codes that mean the account cannot pay or reached a hard limit: asking again cannot succeed.
const FINAL_WORDS = /quota|balance|arrears|billing|insufficient|daily/i;

/** GLM's account (1000-1004, 1110-1121), parameter (1210-1215), content (1301) and daily-limit (1304) codes. */
function glmFinal(code: string | undefined): boolean {
  const n = Number(code);
  return GLM_FINAL.has(code ?? '') || (n >= 1000 && n <= 1004) || (n >= 1110 && n <= 1121) || (n >= 1210 && n <= 1215);
}

function knownFinal(code: string | undefined, dialect: Dialect): boolean {
  if (code === undefined) return false;
  return FINAL_WORDS.test(code) || (dialect === 'glm' && glmFinal(code));
}

interface ErrorBody {
  message?: unknown;
  type?: unknown;
  code?: unknown;
}

function providerCodeOf(body: ErrorBody | undefined, dialect: Dialect): string | undefined {
  const value = dialect === 'kimi' ? (body?.type ?? body?.code) : (body?.code ?? body?.type);
  return value === undefined || value === null ? undefined : String(value);
}

/**
 * Whether an HTTP error may succeed when asked again. Under Kimi and GLM a 429 is retried unless its
 * code is known to be final (an empty balance, a quota, a daily limit): a proxy in front of them
 * sends 429s with codes of its own, and HTTP 429 means "later".
 */
export function isRetryableStatus(status: number, providerCode: string | undefined, dialect: Dialect): boolean {
  if (knownFinal(providerCode, dialect)) return false;
  if (dialect === 'kimi') return (providerCode !== undefined && KIMI_RETRYABLE.has(providerCode)) || status === 429 || status >= 500;
  if (dialect === 'glm') return GLM_RETRYABLE.has(providerCode ?? '') || status === 429 || status >= 500;
  return status >= 500 || OPENAI_RETRYABLE_STATUS.has(status);
}

/** Whether an error sent inside a stream (no HTTP status of its own) may succeed when asked again. */
export function isRetryableStreamError(status: number | undefined, providerCode: string | undefined, dialect: Dialect): boolean {
  if (status !== undefined) return isRetryableStatus(status, providerCode, dialect);
  return providerCode !== undefined && !knownFinal(providerCode, dialect) && RETRYABLE_CODES.has(providerCode);
}

/** Reads Retry-After (seconds or date), retry-after-ms, and Kimi's "try again after N seconds". */
export function retryAfterMsOf(headers: Headers | undefined, message: string, now = Date.now()): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (headers?.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const after = headers?.get('retry-after');
  if (after) {
    const seconds = Number(after);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const said = /try again after (\d+(?:\.\d+)?) seconds?/i.exec(message);
  return said ? Number(said[1]) * 1000 : undefined;
}

const SOCKET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED', 'ECONNREFUSED']);

/** fetch reports a connection lost while reading a body as `TypeError: terminated` with the socket error as cause. */
function lostConnection(error: unknown): string | undefined {
  if (error instanceof APIConnectionError) return error.message;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (error instanceof TypeError && typeof cause?.code === 'string' && SOCKET_CODES.has(cause.code))
    return `${error.message} (${String(cause.message ?? cause.code)})`;
  return undefined;
}

/** Headers, the provider's request id and the SDK's error as plain data (the engine scrubs secrets from them). */
function responseFields(error: APIError): Pick<WireError, 'headers' | 'requestID' | 'cause'> {
  const fields: Pick<WireError, 'headers' | 'requestID' | 'cause'> = { cause: { name: error.constructor.name, message: error.message } };
  if (error.headers !== undefined) fields.headers = Object.fromEntries(error.headers.entries());
  const requestID = error.requestID ?? error.headers?.get('x-request-id') ?? undefined;
  if (requestID) fields.requestID = requestID;
  return fields;
}

/** The SDK error as data, for `supervisor.openai()` to rebuild the SDK's own class: its status and the body's `error` object. */
function apiErrorData(error: APIError): NonNullable<WireError['apiError']> {
  const data: NonNullable<WireError['apiError']> = {};
  if (error.status !== undefined) data.status = error.status;
  if (error.error !== undefined) data.error = error.error;
  return data;
}

export function classifyError(error: unknown, dialect: Dialect, provider: string): AttemptFailure {
  const lost = lostConnection(error);
  if (lost !== undefined) {
    return {
      error: {
        code: 'ERR_PROVIDER',
        name: 'ProviderError',
        message: `${provider}: connection lost: ${lost}`,
        providerCode: 'connection_error',
        retryable: true,
      },
    };
  }
  if (error instanceof APIError && error.status !== undefined) {
    const body = error.error as ErrorBody | undefined;
    const message = typeof body?.message === 'string' ? body.message : error.message;
    const providerCode = providerCodeOf(body, dialect);
    const wire: WireError = {
      code: 'ERR_PROVIDER',
      name: providerErrorClass(error.status).name,
      message: `${provider} answered ${error.status}: ${message}`,
      status: error.status,
      retryable: isRetryableStatus(error.status, providerCode, dialect),
      ...responseFields(error),
      apiError: apiErrorData(error),
    };
    if (providerCode !== undefined) wire.providerCode = providerCode;
    const retryAfterMs = retryAfterMsOf(error.headers, message);
    return retryAfterMs === undefined ? { error: wire } : { error: wire, retryAfterMs };
  }
  if (error instanceof APIError) return streamErrorFailure(error, dialect, provider);
  if (error instanceof SessionPoolError) return { error: toWireError(error) };
  if (error instanceof SyntaxError) {
    return { error: toWireError(new ProviderResponseError(`${provider} sent a malformed response: ${error.message}`)) };
  }
  return { error: toWireError(error) };
}

/**
 * An error the provider sent inside a 200 stream (`data: {"error":…}` or `event: error`): the SDK
 * throws an APIError without status. Its code decides; a status is taken from the body when it has one.
 */
function streamErrorFailure(error: InstanceType<typeof APIError>, dialect: Dialect, provider: string): AttemptFailure {
  const body = (typeof error.error === 'object' && error.error !== null ? error.error : {}) as ErrorBody & { status?: unknown };
  const providerCode = providerCodeOf(body, dialect);
  const numeric = typeof body.status === 'number' ? body.status : Number(body.code);
  const status = Number.isInteger(numeric) && numeric >= 400 && numeric <= 599 ? numeric : undefined;
  const message = typeof body.message === 'string' ? body.message : error.message;
  const wire: WireError = {
    code: 'ERR_PROVIDER',
    name: 'ProviderError',
    message: `${provider} sent an error in its stream: ${message}`,
    retryable: isRetryableStreamError(status, providerCode, dialect),
    ...responseFields(error),
    apiError: apiErrorData(error),
  };
  if (status !== undefined) wire.status = status;
  if (providerCode !== undefined) wire.providerCode = providerCode;
  const retryAfterMs = retryAfterMsOf(error.headers, message);
  return retryAfterMs === undefined ? { error: wire } : { error: wire, retryAfterMs };
}
