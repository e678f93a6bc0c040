// Errors with a stable `code`. Match on the code, never on `instanceof` across threads:
// structuredClone (every thread hop) drops the class, `code` and `name`, so errors travel as
// a plain WireError and are rebuilt here on the main thread.

export type ErrorCode =
  | 'ERR_INVALID_REQUEST'
  | 'ERR_QUEUE_FULL'
  | 'ERR_SESSION_TIMEOUT'
  | 'ERR_SESSION_ABORTED'
  | 'ERR_PROVIDER'
  | 'ERR_PROVIDER_RESPONSE'
  | 'ERR_WORKER_CRASHED'
  | 'ERR_SUPERVISOR_CLOSED'
  | 'ERR_RESPONSE_TOO_LARGE'
  | 'ERR_HANDLER'
  | 'ERR_HANDLER_RESULT'
  | 'ERR_LISTENER';

/** The plain form of an error that crosses a thread boundary. */
export interface WireError {
  code: string;
  name: string;
  message: string;
  status?: number;
  providerCode?: string;
  retryable?: boolean;
  sessionId?: string;
  requestId?: string;
  /** Set on what an `execute` handler threw: its code is the handler's, never one of the engine's classes. */
  handler?: boolean;
}

export interface SessionIds {
  sessionId?: string;
  requestId?: string;
}

export class SessionPoolError extends Error {
  readonly code: string;
  sessionId?: string;
  requestId?: string;
  retryable: boolean;

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

export class ProviderError extends SessionPoolError {
  status?: number;
  providerCode?: string;
  constructor(message: string, fields: Pick<WireError, 'status' | 'providerCode' | 'retryable'>, ids: SessionIds = {}) {
    super('ERR_PROVIDER', message, ids);
    if (fields.status !== undefined) this.status = fields.status;
    if (fields.providerCode !== undefined) this.providerCode = fields.providerCode;
    this.retryable = fields.retryable ?? false;
  }
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
    return wire;
  }
  return { code: 'ERR_HANDLER', name: 'Error', message: String(error) };
}

/** Rebuilds the error class of a WireError; unknown codes (handler errors) keep name, message and code. */
export function fromWireError(wire: WireError, ids: SessionIds = {}): SessionPoolError {
  const at: SessionIds = { sessionId: ids.sessionId ?? wire.sessionId, requestId: ids.requestId ?? wire.requestId };
  if (wire.handler === true) return handlerError(wire, at);
  switch (wire.code) {
    case 'ERR_INVALID_REQUEST': return new InvalidRequestError(wire.message, [], at);
    case 'ERR_QUEUE_FULL': return new QueueFullError(wire.message, at);
    case 'ERR_SESSION_TIMEOUT': return new SessionTimeoutError(wire.message, at);
    case 'ERR_SESSION_ABORTED': return new SessionAbortedError(wire.message, at);
    case 'ERR_PROVIDER': return new ProviderError(wire.message, wire, at);
    case 'ERR_PROVIDER_RESPONSE': return new ProviderResponseError(wire.message, at, wire.retryable, wire.providerCode);
    case 'ERR_WORKER_CRASHED': return new WorkerCrashedError(wire.message, at);
    case 'ERR_SUPERVISOR_CLOSED': return new SupervisorClosedError(wire.message, at);
    case 'ERR_HANDLER_RESULT': return new HandlerResultError(wire.message, at);
    case 'ERR_RESPONSE_TOO_LARGE': return new ResponseTooLargeError(wire.message, at);
    default: return named(new SessionPoolError(wire.code, wire.message, at), wire);
  }
}

function handlerError(wire: WireError, at: SessionIds): HandlerError {
  return named(new HandlerError(wire.code, wire.message, at), wire);
}

function named<E extends SessionPoolError>(error: E, wire: WireError): E {
  error.name = wire.name;
  if (wire.retryable !== undefined) error.retryable = wire.retryable;
  return error;
}
