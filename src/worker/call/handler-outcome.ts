// What an `execute` handler produced, made safe to cross threads: whatever it threw becomes a
// handler error that keeps its code, name and message (read defensively: getters may throw,
// prototypes may be missing), and a value that cannot be cloned is refused here, in its worker,
// instead of failing the thread's reply (which the pool would take for a crash).
import type { WireError } from '../../types/errors.ts';

const MAX_TEXT = 1000;

/** Reads a property without letting a throwing getter or a proxy escape. */
function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function preview(value: unknown): string {
  try {
    if (typeof value !== 'object' && typeof value !== 'function') return String(value);
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Cycles, BigInt, throwing toJSON: fall back to the kind of value.
  }
  try {
    return Object.prototype.toString.call(value);
  } catch {
    return 'a value that cannot be described';
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value.slice(0, MAX_TEXT) : undefined);

/** The handler error of anything a handler threw. */
export function handlerFailure(thrown: unknown): WireError {
  const object = typeof thrown === 'object' && thrown !== null ? thrown : undefined;
  const message = object ? text(read(object, 'message')) : undefined;
  const wire: WireError = {
    code: (object && text(read(object, 'code'))) ?? 'ERR_HANDLER',
    name: (object && text(read(object, 'name'))) ?? 'Error',
    message: message ?? `The handler threw a value that is not an Error: ${preview(thrown).slice(0, MAX_TEXT)}`,
    handler: true,
  };
  const retryable = object ? read(object, 'retryable') : undefined;
  if (typeof retryable === 'boolean') wire.retryable = retryable;
  return wire;
}

/** Why `output` cannot cross threads, or undefined when it can. */
export function resultProblem(output: unknown): WireError | undefined {
  try {
    structuredClone(output);
    return undefined;
  } catch (error) {
    const why = error instanceof Error ? error.message : preview(error);
    return {
      code: 'ERR_HANDLER_RESULT',
      name: 'HandlerResultError',
      message: `The handler returned a value that cannot be sent back to the caller (${why.slice(0, MAX_TEXT)}): return data that structuredClone accepts`,
    };
  }
}
