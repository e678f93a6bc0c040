// Errors with a stable `code`. Match on the code, never on `instanceof` across threads:
// structuredClone (every thread hop) drops the class, `code` and `name`, so errors travel as
// a plain WireError and are rebuilt here on the main thread.
import type { SessionIds, WireError } from '../types/errors.ts';
import type { RouteEntry } from '../types/route.ts';

export class SessionPoolError extends Error {
  readonly code: string;
  sessionId?: string;
  requestId?: string;
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

  toJSON(): WireError {
    return toWireError(this);
  }
}

export class InvalidRequestError extends SessionPoolError {
  /** Each problem found, as `path: what was expected, got what`. */
  readonly issues: string[];
  constructor(message: string, issues: string[] = [], ids: SessionIds = {}) {
    super('ERR_INVALID_REQUEST', message, ids);
    this.issues = issues;
  }
}

export class QueueFullError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_QUEUE_FULL', message, ids);
    this.retryable = true;
  }
}

export class SessionTimeoutError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_SESSION_TIMEOUT', message, ids);
  }
}

export class SessionAbortedError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_SESSION_ABORTED', message, ids);
  }
}

export type ProviderErrorFields = Pick<WireError, 'status' | 'providerCode' | 'retryable' | 'headers' | 'requestID'>;

/** The provider answered with an error or could not be reached. Subclasses by status are named as in the openai SDK. */
export class ProviderError extends SessionPoolError {
  status?: number;
  providerCode?: string;
  /** The response headers, secrets scrubbed; absent when there was no response. */
  headers?: Record<string, string>;
  /** The provider's request id (`x-request-id`), for its support desk. */
  requestID?: string;
  constructor(message: string, fields: ProviderErrorFields, ids: SessionIds = {}, options?: ErrorOptions) {
    super('ERR_PROVIDER', message, ids, options);
    if (fields.status !== undefined) this.status = fields.status;
    if (fields.providerCode !== undefined) this.providerCode = fields.providerCode;
    if (fields.headers !== undefined) this.headers = fields.headers;
    if (fields.requestID !== undefined) this.requestID = fields.requestID;
    this.retryable = fields.retryable ?? false;
  }
}

/** 400 */
export class BadRequestError extends ProviderError {}
/** 401 */
export class AuthenticationError extends ProviderError {}
/** 403 */
export class PermissionDeniedError extends ProviderError {}
/** 404 */
export class NotFoundError extends ProviderError {}
/** 409 */
export class ConflictError extends ProviderError {}
/** 422 */
export class UnprocessableEntityError extends ProviderError {}
/** 429 */
export class RateLimitError extends ProviderError {}
/** 500 and above */
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

export class ProviderResponseError extends SessionPoolError {
  /** The provider's word for what went wrong when it gave one (GLM `sensitive`, `network_error`). */
  providerCode?: string;
  constructor(message: string, ids: SessionIds = {}, retryable = false, providerCode?: string) {
    super('ERR_PROVIDER_RESPONSE', message, ids);
    this.retryable = retryable;
    if (providerCode !== undefined) this.providerCode = providerCode;
  }
}

/** A response body (or stream) grew past `maxResponseBytes` decoded bytes; reading stopped there. */
export class ResponseTooLargeError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_RESPONSE_TOO_LARGE', message, ids);
  }
}

export class WorkerCrashedError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_WORKER_CRASHED', message, ids);
    this.retryable = true;
  }
}

export class SupervisorClosedError extends SessionPoolError {
  constructor(message = 'The supervisor is closed and admits no new sessions', ids: SessionIds = {}) {
    super('ERR_SUPERVISOR_CLOSED', message, ids);
  }
}

/** What an `execute` handler threw: `code` and `name` are the handler's own (`ERR_HANDLER` when it gave none). */
export class HandlerError extends SessionPoolError {}

/** An `execute` handler returned a value that cannot cross threads (a function, a Symbol, a stream...). */
export class HandlerResultError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_HANDLER_RESULT', message, ids);
  }
}

/** A `transition`, `started` or `retry` listener, or the `inspect` observer, threw: reported, never rethrown. */
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

/** The queue behind a transport across hosts (Redis, for bullmq()) could not take or keep the session. */
export class TransportError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_TRANSPORT', message, ids);
    this.retryable = true;
  }
}

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
      return new ProviderResponseError(wire.message, at, wire.retryable, wire.providerCode);
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

/** An optional peer dependency that a feature needs is not installed. */
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
