// The engine's errors as the openai SDK's own classes, where the SDK has one, so that code written
// for `new OpenAI()` catches what it catches there (`err instanceof OpenAI.RateLimitError`,
// `OpenAI.APIUserAbortError`, …), with the SDK's `status`, `error`, `code`, `type`, `param`,
// `headers` and `requestID`. The engine's error (its `code`, `sessionId`, `retryable`, `route`) is
// the SDK error's `cause`. Errors the SDK has no class for (ERR_INVALID_REQUEST, ERR_QUEUE_FULL,
// ERR_PROVIDER_RESPONSE, …) stay the engine's.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ProviderError, SessionPoolError } from '../errors/errors.ts';

function withCause<E extends Error>(error: E, cause: unknown): E {
  Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  return error;
}

/** A provider's refusal as the SDK's error: its HTTP class, or APIError for one sent inside a stream. */
function apiErrorOf(error: ProviderError): APIError | undefined {
  const data = error.apiError;
  if (data === undefined) return error.status === undefined ? withCause(new APIConnectionError({ cause: error }), error) : undefined;
  const headers = new Headers(error.headers ?? {});
  // The SDK builds the same error from the same status, body and headers (APIError.generate), or,
  // for an error event of a 200 stream, an APIError without status (Stream in openai/core/streaming).
  const sdk =
    data.status === undefined
      ? new APIError(undefined, data.error as object | undefined, undefined, headers)
      : APIError.generate(data.status, { error: data.error }, undefined, headers);
  // The SDK's message for a body without JSON is its text, which only the worker saw.
  const message = (error.cause as { message?: unknown } | undefined)?.message;
  if (data.error === undefined && typeof message === 'string') sdk.message = message;
  return withCause(sdk, error);
}

/** The error `supervisor.openai()` throws for an error of the engine (any other value passes as it is). */
export function toSDKError(error: unknown): unknown {
  if (!(error instanceof SessionPoolError)) return error;
  switch (error.code) {
    case 'ERR_PROVIDER':
      return (error instanceof ProviderError ? apiErrorOf(error) : undefined) ?? error;
    case 'ERR_SESSION_ABORTED':
      return withCause(new APIUserAbortError(), error);
    case 'ERR_SESSION_TIMEOUT':
      return withCause(new APIConnectionTimeoutError(), error);
    default:
      return error;
  }
}
