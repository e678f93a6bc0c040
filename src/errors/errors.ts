// Errors with a stable `code`. Match on the code, never on `instanceof` across threads:
// structuredClone (every thread hop) drops the class, `code` and `name`, so errors travel as
// a plain WireError and are rebuilt here on the main thread.
import type { SessionIds, WireError } from '../types/errors.ts';
import type { RouteEntry } from '../types/route.ts';

/**
 * The base class of every error the engine raises. Match on `code` (an ErrorCode): it survives every
 * thread and host hop, and `instanceof` works too on the main thread. An error that ended a session
 * carries its `sessionId` and `requestId`; every one says whether it is `retryable`.
 * @example
 * ```ts
 * import { createSupervisor, SessionPoolError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * try {
 *   await supervisor.chat({ provider: 'kimi', prompt: 'Never answered [[mock hang]]', timeoutMs: 200 });
 * } catch (error) {
 *   if (!(error instanceof SessionPoolError)) throw error;
 *   if (error.code === 'ERR_SESSION_TIMEOUT') console.log('timed out', error.requestId, error.retryable); // timed out <uuid> false
 *   else throw error;
 * }
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class SessionPoolError extends Error {
  /** The stable code (an ErrorCode, or an `execute` handler's own): what to match on. */
  readonly code: string;
  /** The engine's id of the session it ended; absent for an error raised before a session existed (an invalid request, a closed supervisor). */
  sessionId?: string;
  /** The request id of that session (yours, or the UUID given to it). */
  requestId?: string;
  /** Whether the same request, sent again later, may succeed (a full queue, a 429 or 5xx, a crashed thread); the engine's own retries are already spent. */
  retryable: boolean;
  /** For a routed chat session: every target tried and why it was left. */
  route?: RouteEntry[];

  constructor(code: string, message: string, ids: SessionIds = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.retryable = false;
    if (ids.sessionId !== undefined) this.sessionId = ids.sessionId;
    if (ids.requestId !== undefined) this.requestId = ids.requestId;
  }

  /**
   * The error as plain data (a WireError: code, name, message, ids, the provider's fields), what
   * `JSON.stringify(error)` writes: for logs and for sending an error across a process boundary.
   * @example
   * ```ts
   * import { createSupervisor, SessionPoolError } from 'sessionpool';
   *
   * const supervisor = createSupervisor();
   * await supervisor.close();
   * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi' }).catch((e: unknown) => e);
   * if (error instanceof SessionPoolError) console.log(JSON.stringify(error)); // {"code":"ERR_SUPERVISOR_CLOSED","name":"SupervisorClosedError",…}
   * ```
   */
  toJSON(): WireError {
    return toWireError(this);
  }
}

/**
 * `ERR_INVALID_REQUEST`: a request, the supervisor's options or a mock's options are invalid (a
 * wrong field, an unknown provider, a `requestId` already in use); nothing was started. Thrown by
 * `chat()`, `stream()`, `execute()`, `createSupervisor()` and `close()` (a bad `timeoutMs`).
 * @example
 * ```ts
 * import { createSupervisor, InvalidRequestError } from 'sessionpool';
 *
 * const supervisor = createSupervisor();
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi', temperature: 9 }).catch((e: unknown) => e);
 * if (error instanceof InvalidRequestError) console.log(error.code, error.issues); // ERR_INVALID_REQUEST [ '`temperature`: Too big: expected number to be <=2, got 9 (number)' ]
 * await supervisor.close();
 * ```
 */
export class InvalidRequestError extends SessionPoolError {
  /** Each problem found, as `path: what was expected, got what`. */
  readonly issues: string[];
  constructor(message: string, issues: string[] = [], ids: SessionIds = {}) {
    super('ERR_INVALID_REQUEST', message, ids);
    this.issues = issues;
  }
}

/**
 * `ERR_QUEUE_FULL`: `maxQueue` sessions already wait for a slot, so this one was refused at once
 * (`retryable: true`: try again later, or raise `maxConcurrent`/`maxQueue`).
 * @example
 * ```ts
 * import { createSupervisor, QueueFullError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ maxConcurrent: 1, maxQueue: 0, providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const slow = supervisor.chat({ provider: 'kimi', prompt: 'Slow [[mock latencyMs=200]]' });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi' }).catch((e: unknown) => e);
 * if (error instanceof QueueFullError) console.log(error.code, error.retryable); // ERR_QUEUE_FULL true
 * await slow;
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class QueueFullError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_QUEUE_FULL', message, ids);
    this.retryable = true;
  }
}

/**
 * `ERR_BUDGET_EXCEEDED`: what this supervisor's sessions cost already reached a limit of its
 * `budgets` (the provider's, or the caller tag's: the request's `metadata.tag`), so the session was
 * refused before any call. `budget` names which (`provider:kimi`, `tag:team-a`).
 * @example
 * ```ts
 * import { BudgetExceededError, createSupervisor, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({
 *   providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } },
 *   budgets: { tags: { trial: { limit: 0, currency: 'USD' } } },
 * });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hello', metadata: { tag: 'trial' } }).catch((e: unknown) => e);
 * if (error instanceof BudgetExceededError) console.log(error.code, error.budget); // ERR_BUDGET_EXCEEDED tag:trial
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class BudgetExceededError extends SessionPoolError {
  /** Which budget: `provider:<name>` or `tag:<tag>`. */
  readonly budget: string;
  constructor(message: string, budget: string, ids: SessionIds = {}) {
    super('ERR_BUDGET_EXCEEDED', message, ids);
    this.budget = budget;
  }
}

/**
 * `ERR_SESSION_TIMEOUT`: the session reached its deadline (`timeoutMs`, queue wait included); its
 * provider call or handler was aborted. Also the `reason` of a handler's `signal` at the deadline.
 * @example
 * ```ts
 * import { createSupervisor, SessionTimeoutError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Never answered [[mock hang]]', timeoutMs: 200 }).catch((e: unknown) => e);
 * if (error instanceof SessionTimeoutError) console.log(error.code, error.message); // ERR_SESSION_TIMEOUT The session reached its deadline of 200 ms
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class SessionTimeoutError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_SESSION_TIMEOUT', message, ids);
  }
}

/**
 * `ERR_SESSION_ABORTED`: the caller's `signal` aborted the session (its reason is the error's
 * `cause`), the caller broke out of `stream()`, or `close()` gave up waiting for it.
 * @example
 * ```ts
 * import { createSupervisor, SessionAbortedError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const signal = AbortSignal.timeout(100);
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Never answered [[mock hang]]', signal }).catch((e: unknown) => e);
 * if (error instanceof SessionAbortedError) console.log(error.code, (error.cause as Error).name); // ERR_SESSION_ABORTED TimeoutError
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class SessionAbortedError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_SESSION_ABORTED', message, ids);
  }
}

/** What a ProviderError is built with besides its message: the provider's side of the failure. */
export type ProviderErrorFields = Pick<WireError, 'status' | 'providerCode' | 'retryable' | 'headers' | 'requestID' | 'apiError'>;

/**
 * `ERR_PROVIDER`: the provider answered with an error (an HTTP status, or an error inside a 200
 * stream) or could not be reached, after the retries the error allowed. Known statuses get a
 * subclass named as in the openai SDK (BadRequestError … InternalServerError); others, and failures
 * without a response, are a plain ProviderError. `retryable` follows the status and the provider's
 * code (429, 5xx, overloads: yes; a spent quota or balance: never). `requestId` is yours, `requestID`
 * the provider's.
 * @example
 * ```ts
 * import { createSupervisor, ProviderError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock status=418]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof ProviderError) console.log(error.code, error.name, error.status, error.headers?.['content-type']); // ERR_PROVIDER ProviderError 418 application/json; charset=utf-8
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class ProviderError extends SessionPoolError {
  /** The HTTP status the provider answered with; absent when no response came (connection refused or reset, DNS). */
  status?: number;
  /** The provider's own error code or type from the body (Kimi `rate_limit_reached_error`, GLM `1302`), or `redirect` for a redirect that was not followed. */
  providerCode?: string;
  /** The response headers, secrets scrubbed; absent when there was no response. */
  headers?: Record<string, string>;
  /** The provider's request id (`x-request-id`), for its support desk. */
  requestID?: string;
  /** The openai SDK's error the worker met (its `status` and the body's `error` object), when the provider answered with one. */
  apiError?: WireError['apiError'];
  constructor(message: string, fields: ProviderErrorFields, ids: SessionIds = {}, options?: ErrorOptions) {
    super('ERR_PROVIDER', message, ids, options);
    if (fields.status !== undefined) this.status = fields.status;
    if (fields.providerCode !== undefined) this.providerCode = fields.providerCode;
    if (fields.headers !== undefined) this.headers = fields.headers;
    if (fields.requestID !== undefined) this.requestID = fields.requestID;
    if (fields.apiError !== undefined) this.apiError = fields.apiError;
    this.retryable = fields.retryable ?? false;
  }
}

/**
 * `ERR_PROVIDER` with status 400: the provider refused the request as malformed.
 * @example
 * ```ts
 * import { createSupervisor, BadRequestError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock status=400]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof BadRequestError) console.log(error.code, error.status, error.providerCode, error.retryable); // ERR_PROVIDER 400 invalid_request_error false
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class BadRequestError extends ProviderError {}
/**
 * `ERR_PROVIDER` with status 401: the provider refused the API key.
 * @example
 * ```ts
 * import { createSupervisor, AuthenticationError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock status=401]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof AuthenticationError) console.log(error.code, error.status, error.providerCode, error.retryable); // ERR_PROVIDER 401 invalid_authentication_error false
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class AuthenticationError extends ProviderError {}
/**
 * `ERR_PROVIDER` with status 403: the key may not use this model or endpoint.
 * @example
 * ```ts
 * import { createSupervisor, PermissionDeniedError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock status=403]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof PermissionDeniedError) console.log(error.code, error.status, error.providerCode, error.retryable); // ERR_PROVIDER 403 permission_denied_error false
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class PermissionDeniedError extends ProviderError {}
/**
 * `ERR_PROVIDER` with status 404: an unknown model or a wrong `baseURL`.
 * @example
 * ```ts
 * import { createSupervisor, NotFoundError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock status=404]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof NotFoundError) console.log(error.code, error.status, error.providerCode, error.retryable); // ERR_PROVIDER 404 resource_not_found_error false
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class NotFoundError extends ProviderError {}
/**
 * `ERR_PROVIDER` with status 409: a conflict (retried under the OpenAI dialect; under Kimi and GLM only when the provider's code says so).
 * @example
 * ```ts
 * import { createSupervisor, ConflictError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock status=409]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof ConflictError) console.log(error.code, error.status); // ERR_PROVIDER 409
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class ConflictError extends ProviderError {}
/**
 * `ERR_PROVIDER` with status 422: the provider could not process the request as sent.
 * @example
 * ```ts
 * import { createSupervisor, UnprocessableEntityError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock status=422]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof UnprocessableEntityError) console.log(error.code, error.status); // ERR_PROVIDER 422
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class UnprocessableEntityError extends ProviderError {}
/**
 * `ERR_PROVIDER` with status 429: a rate limit or an overload, retried after its `Retry-After` until
 * `maxRetries`; a spent quota or balance is final (`retryable: false`).
 * @example
 * ```ts
 * import { createSupervisor, RateLimitError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock status=429]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof RateLimitError) console.log(error.code, error.status, error.providerCode, error.retryable); // ERR_PROVIDER 429 rate_limit_reached_error true
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class RateLimitError extends ProviderError {}
/**
 * `ERR_PROVIDER` with a status of 500 or above: the provider failed (`retryable: true`: retried until `maxRetries`).
 * @example
 * ```ts
 * import { createSupervisor, InternalServerError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock status=503]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof InternalServerError) console.log(error.code, error.status, error.providerCode, error.retryable); // ERR_PROVIDER 503 server_error true
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class InternalServerError extends ProviderError {}

const BY_STATUS: Readonly<Record<number, typeof ProviderError>> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The class of a provider error with this status, as the openai SDK names them. */
export function providerErrorClass(status: number | undefined): typeof ProviderError {
  if (status === undefined) return ProviderError;
  return BY_STATUS[status] ?? (status >= 500 ? InternalServerError : ProviderError);
}

/**
 * `ERR_PROVIDER_RESPONSE`: the provider answered 200 with something unusable: a malformed body or
 * stream, a stream that ended without a finish reason or went idle (`idleTimeoutMs`), a completion
 * without a message, GLM's `sensitive` or `network_error` endings. `retryable` says whether it was
 * (and may again be) retried.
 * @example
 * ```ts
 * import { createSupervisor, ProviderResponseError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi [[mock garbage=body]]', maxRetries: 0 }).catch((e: unknown) => e);
 * if (error instanceof ProviderResponseError) console.log(error.code, error.retryable, error.message); // ERR_PROVIDER_RESPONSE …
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class ProviderResponseError extends SessionPoolError {
  /** The provider's word for what went wrong when it gave one (GLM `sensitive`, `network_error`). */
  providerCode?: string;
  /** A structured answer (`responseFormat` with a JSON schema) that missed its schema: each problem, as `path: what`. */
  issues?: string[];
  constructor(message: string, ids: SessionIds = {}, retryable = false, providerCode?: string, issues?: string[]) {
    super('ERR_PROVIDER_RESPONSE', message, ids);
    this.retryable = retryable;
    if (providerCode !== undefined) this.providerCode = providerCode;
    if (issues !== undefined) this.issues = issues;
  }
}

/**
 * `ERR_RESPONSE_TOO_LARGE`: a response body (or stream) grew past `maxResponseBytes` decoded bytes
 * (the request's, else the supervisor's); reading stopped there. Not retried.
 * @example
 * ```ts
 * import { createSupervisor, ResponseTooLargeError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi', maxResponseBytes: 100 }).catch((e: unknown) => e);
 * if (error instanceof ResponseTooLargeError) console.log(error.code, error.message); // ERR_RESPONSE_TOO_LARGE kimi sent more than maxResponseBytes (100) bytes; …
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class ResponseTooLargeError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_RESPONSE_TOO_LARGE', message, ids);
  }
}

/**
 * `ERR_WORKER_CRASHED`: the worker thread running the session died (out of memory, a native crash,
 * `process.exit()` in a handler). A chat is first sent again once, on another thread, when nothing
 * was streamed (`metadata.session.crashRetries`); a handler only with `retryOnCrash`. Also what
 * `ready()` rejects with when a thread exits before it is up. `retryable: true`.
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { createSupervisor, WorkerCrashedError } from 'sessionpool';
 *
 * const handler = join(tmpdir(), 'crash.mjs');
 * await writeFile(handler, 'export default () => process.exit(1);'); // takes its worker thread down with it
 * const supervisor = createSupervisor();
 * const error = await supervisor.execute({ handler, input: null }).catch((e: unknown) => e);
 * if (error instanceof WorkerCrashedError) console.log(error.code, error.retryable, error.message); // ERR_WORKER_CRASHED true The worker running this session crashed: …
 * await supervisor.close();
 * ```
 */
export class WorkerCrashedError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_WORKER_CRASHED', message, ids);
    this.retryable = true;
  }
}

/**
 * `ERR_SUPERVISOR_CLOSED`: `close()` was called; the supervisor admits no new session (those
 * admitted before go on until close's timeout).
 * @example
 * ```ts
 * import { createSupervisor, SupervisorClosedError } from 'sessionpool';
 *
 * const supervisor = createSupervisor();
 * await supervisor.close();
 * const error = await supervisor.chat({ provider: 'kimi', prompt: 'Hi' }).catch((e: unknown) => e);
 * if (error instanceof SupervisorClosedError) console.log(error.code); // ERR_SUPERVISOR_CLOSED
 * ```
 */
export class SupervisorClosedError extends SessionPoolError {
  constructor(message = 'The supervisor is closed and admits no new sessions', ids: SessionIds = {}) {
    super('ERR_SUPERVISOR_CLOSED', message, ids);
  }
}

/**
 * What an `execute` handler threw: `code`, `name` and `message` are the handler's own (`code`
 * `ERR_HANDLER` when it had none). It never turns into one of the engine's classes: a handler that
 * throws `{ code: 'ERR_QUEUE_FULL' }` gives a HandlerError, not a QueueFullError.
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { createSupervisor, HandlerError } from 'sessionpool';
 *
 * const handler = join(tmpdir(), 'reserve.mjs');
 * await writeFile(handler, "export default () => { throw Object.assign(new Error('out of stock'), { code: 'ERR_OUT_OF_STOCK' }); };");
 * const supervisor = createSupervisor();
 * const error = await supervisor.execute({ handler, input: { sku: 'A1' } }).catch((e: unknown) => e);
 * if (error instanceof HandlerError) console.log(error.code, error.name, error.message); // ERR_OUT_OF_STOCK Error out of stock
 * await supervisor.close();
 * ```
 */
export class HandlerError extends SessionPoolError {}

/**
 * `ERR_HANDLER_RESULT`: an `execute` handler returned a value that cannot cross threads (a
 * function, a Symbol, a stream...). The handler ran once: it is not run again.
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { createSupervisor, HandlerResultError } from 'sessionpool';
 *
 * const handler = join(tmpdir(), 'counter.mjs');
 * await writeFile(handler, 'export default () => ({ next: () => 1 });'); // a function cannot be cloned
 * const supervisor = createSupervisor();
 * const error = await supervisor.execute({ handler, input: null }).catch((e: unknown) => e);
 * if (error instanceof HandlerResultError) console.log(error.code); // ERR_HANDLER_RESULT
 * await supervisor.close();
 * ```
 */
export class HandlerResultError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_HANDLER_RESULT', message, ids);
  }
}

/**
 * `ERR_LISTENER`: a listener of the supervisor's events (`transition`, `started`, `retry`, …), or
 * the `inspect` observer, threw or rejected. Only emitted as the supervisor's `error` event (logged
 * as a warning when nobody listens), never thrown: the session goes on. Its `cause` is what was thrown.
 * @example
 * ```ts
 * import { createSupervisor, ListenerError } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * supervisor.once('transition', () => {
 *   throw new Error('bug in my listener');
 * });
 * supervisor.on('error', (error) => {
 *   if (error instanceof ListenerError) console.log(error.code, error.source, (error.cause as Error).message); // ERR_LISTENER transition bug in my listener
 * });
 * await supervisor.chat({ provider: 'kimi', prompt: 'Hi' }); // completes all the same
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class ListenerError extends SessionPoolError {
  /** Where it was thrown: the event's name, or `inspect`. */
  readonly source: string;
  constructor(message: string, source: string, cause: unknown, ids: SessionIds = {}) {
    super('ERR_LISTENER', message, ids, { cause });
    this.source = source;
  }
}

/** Every target of the session has its circuit open (src/routing): nothing was sent. */
export class CircuitOpenError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_CIRCUIT_OPEN', message, ids);
    this.retryable = true;
  }
}

/**
 * `ERR_TRANSPORT`: the queue behind a transport across hosts (Redis, for bullmq()) could not take or
 * keep the session, or a worker host refused its job (`retryable: false` then). Also what `ready()`
 * rejects with when the transport cannot connect.
 * @example
 * ```ts
 * import { bullmq, createSupervisor, TransportError, type Supervisor } from 'sessionpool';
 *
 * // Whether the supervisor's transport is up; any other failure is rethrown.
 * async function transportUp(supervisor: Supervisor): Promise<boolean> {
 *   try {
 *     await supervisor.ready();
 *     return true;
 *   } catch (error) {
 *     if (!(error instanceof TransportError)) throw error;
 *     console.warn(error.code, error.message); // ERR_TRANSPORT Could not connect to Redis at redis://127.0.0.1:1/0: …
 *     return false;
 *   }
 * }
 *
 * // SESSIONPOOL_JOB_SECRET is set in the environment; no Redis listens on port 1.
 * const supervisor = createSupervisor({ transport: bullmq({ connection: 'redis://127.0.0.1:1', queueName: 'sessions' }) });
 * console.log(await transportUp(supervisor)); // false
 * await supervisor.close();
 * ```
 */
export class TransportError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_TRANSPORT', message, ids);
    this.retryable = true;
  }
}

/** Any thrown value as a WireError (`ERR_HANDLER` for one without a string `code`). */
export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const e = error as Error & Partial<WireError>;
    const wire: WireError = {
      code: typeof e.code === 'string' ? e.code : 'ERR_HANDLER',
      name: e.name,
      message: e.message,
    };
    if (typeof e.status === 'number') wire.status = e.status;
    if (typeof e.providerCode === 'string') wire.providerCode = e.providerCode;
    if (typeof e.retryable === 'boolean') wire.retryable = e.retryable;
    if (typeof e.sessionId === 'string') wire.sessionId = e.sessionId;
    if (typeof e.requestId === 'string') wire.requestId = e.requestId;
    if (typeof e.requestID === 'string') wire.requestID = e.requestID;
    if (e.headers !== null && typeof e.headers === 'object') wire.headers = e.headers;
    if (Array.isArray(e.route)) wire.route = e.route;
    if (e.apiError !== null && typeof e.apiError === 'object') wire.apiError = e.apiError;
    if (Array.isArray(e.issues) && e.code === 'ERR_PROVIDER_RESPONSE') wire.issues = e.issues;
    return wire;
  }
  return { code: 'ERR_HANDLER', name: 'Error', message: String(error) };
}

/** Rebuilds the error class of a WireError; unknown codes (handler errors) keep name, message and code. */
export function fromWireError(wire: WireError, ids: SessionIds = {}): SessionPoolError {
  const error = errorOf(wire, ids);
  if (wire.route !== undefined) error.route = wire.route;
  return error;
}

/** The errors that take only a message and the session's ids, by code. */
const ERRORS_BY_CODE: Record<string, new (message: string, ids: SessionIds) => SessionPoolError> = {
  ERR_QUEUE_FULL: QueueFullError,
  ERR_SESSION_TIMEOUT: SessionTimeoutError,
  ERR_SESSION_ABORTED: SessionAbortedError,
  ERR_WORKER_CRASHED: WorkerCrashedError,
  ERR_SUPERVISOR_CLOSED: SupervisorClosedError,
  ERR_HANDLER_RESULT: HandlerResultError,
  ERR_RESPONSE_TOO_LARGE: ResponseTooLargeError,
  ERR_CIRCUIT_OPEN: CircuitOpenError,
  ERR_TRANSPORT: TransportError,
};

function errorOf(wire: WireError, ids: SessionIds): SessionPoolError {
  const at: SessionIds = { sessionId: ids.sessionId ?? wire.sessionId, requestId: ids.requestId ?? wire.requestId };
  if (wire.handler === true) return handlerError(wire, at);
  switch (wire.code) {
    case 'ERR_INVALID_REQUEST':
      return new InvalidRequestError(wire.message, [], at);
    case 'ERR_PROVIDER': {
      const ProviderClass = providerErrorClass(wire.status);
      return new ProviderClass(wire.message, wire, at, wire.cause !== undefined ? { cause: wire.cause } : undefined);
    }
    case 'ERR_PROVIDER_RESPONSE':
      return new ProviderResponseError(wire.message, at, wire.retryable, wire.providerCode, wire.issues);
  }
  const ErrorClass = Object.hasOwn(ERRORS_BY_CODE, wire.code) ? ERRORS_BY_CODE[wire.code] : undefined;
  if (ErrorClass !== undefined) return new ErrorClass(wire.message, at);
  return named(new SessionPoolError(wire.code, wire.message, at), wire);
}

function handlerError(wire: WireError, at: SessionIds): HandlerError {
  return named(new HandlerError(wire.code, wire.message, at), wire);
}

function named<E extends SessionPoolError>(error: E, wire: WireError): E {
  error.name = wire.name;
  if (wire.retryable !== undefined) error.retryable = wire.retryable;
  return error;
}

/**
 * `ERR_MISSING_PEER_DEPENDENCY`: an optional peer dependency that a feature needs is not installed
 * (`ws` for startLiveView(), `@statelyai/inspect` for startStatelyInspector(), `bullmq` and
 * `ioredis` for bullmq()); its message says what to `npm install`.
 * @example
 * ```ts
 * import { createSupervisor, MissingPeerDependencyError } from 'sessionpool';
 * import { startLiveView } from 'sessionpool/observe';
 *
 * const supervisor = createSupervisor();
 * const view = await startLiveView(supervisor).catch((error: unknown) => {
 *   if (!(error instanceof MissingPeerDependencyError)) throw error;
 *   console.warn(`no live view: npm install ${error.packageName}`);
 *   return undefined;
 * });
 * await view?.close();
 * await supervisor.close();
 * ```
 */
export class MissingPeerDependencyError extends SessionPoolError {
  /** The npm package to install. */
  readonly packageName: string;
  constructor(packageName: string, feature: string, options?: ErrorOptions) {
    super('ERR_MISSING_PEER_DEPENDENCY', `${feature} needs the optional peer dependency "${packageName}": npm install ${packageName}`, {}, options);
    this.packageName = packageName;
  }
}

/** Piscina refused the task (its queue is at its limit): nothing ran, no thread died. */
export class TaskRefusedError extends Error {}
