// Errors with a stable `code`. Match on the code, never on `instanceof` across threads:
// structuredClone (every thread hop) drops the class, `code` and `name`, so errors travel as
// a plain WireError and are rebuilt here on the main thread.
import type { RouteEntry } from './routing/targets.ts';

export type ErrorCode =
  | 'ERR_INVALID_REQUEST'
  | 'ERR_QUEUE_FULL'
  | 'ERR_SESSION_TIMEOUT'
  | 'ERR_SESSION_ABORTED'
  | 'ERR_PROVIDER'
  | 'ERR_PROVIDER_RESPONSE'
  | 'ERR_WORKER_CRASHED'
  | 'ERR_SUPERVISOR_CLOSED'
  | 'ERR_CIRCUIT_OPEN'
  | 'ERR_HANDLER';

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
  /** The targets a routed session tried, and why it left each (see src/routing). */
  route?: RouteEntry[];
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

/** Every target of the session has its circuit open (src/routing): nothing was sent. */
export class CircuitOpenError extends SessionPoolError {
  constructor(message: string, ids: SessionIds = {}) {
    super('ERR_CIRCUIT_OPEN', message, ids);
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

function errorOf(wire: WireError, ids: SessionIds): SessionPoolError {
  const at: SessionIds = { sessionId: ids.sessionId ?? wire.sessionId, requestId: ids.requestId ?? wire.requestId };
  switch (wire.code) {
    case 'ERR_INVALID_REQUEST': return new InvalidRequestError(wire.message, [], at);
    case 'ERR_QUEUE_FULL': return new QueueFullError(wire.message, at);
    case 'ERR_SESSION_TIMEOUT': return new SessionTimeoutError(wire.message, at);
    case 'ERR_SESSION_ABORTED': return new SessionAbortedError(wire.message, at);
    case 'ERR_PROVIDER': return new ProviderError(wire.message, wire, at);
    case 'ERR_PROVIDER_RESPONSE': return new ProviderResponseError(wire.message, at, wire.retryable, wire.providerCode);
    case 'ERR_WORKER_CRASHED': return new WorkerCrashedError(wire.message, at);
    case 'ERR_SUPERVISOR_CLOSED': return new SupervisorClosedError(wire.message, at);
    case 'ERR_CIRCUIT_OPEN': return new CircuitOpenError(wire.message, at);
    default: {
      const error = new SessionPoolError(wire.code, wire.message, at);
      error.name = wire.name;
      if (wire.retryable !== undefined) error.retryable = wire.retryable;
      return error;
    }
  }
}
