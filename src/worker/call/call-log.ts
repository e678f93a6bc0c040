// The provider calls of a traced session (a task with `trace`), kept by the worker for the host's
// spans: one record per HTTP call, retries, continuation and web-search rounds included. Untraced
// tasks have no log and pay nothing.
import type { CallKind, CallRecord } from '../../wire/protocol.ts';
import type { Reading } from '../providers/read.ts';

/** One call being made: its record, filled as it goes. */
export class CallLog {
  readonly records: CallRecord[] = [];
  #open: CallRecord | undefined;

  /** A call starts now; `kind` says why it is made. */
  begin(kind: CallKind, provider: string, model: string): void {
    this.#open = { kind, startedAt: Date.now(), endedAt: 0, provider, model };
    this.records.push(this.#open);
  }

  /** A chunk of the open call's stream came. */
  readonly chunk = (): void => {
    const open = this.#open;
    if (open === undefined) return;
    open.firstChunkAt ??= Date.now();
    open.chunks = (open.chunks ?? 0) + 1;
  };

  /** The open call answered (its reading may still be refused as a failed finish). */
  answered(reading: Reading): void {
    const open = this.#open;
    if (open === undefined) return;
    open.endedAt = Date.now();
    open.finishReason = reading.finishReason;
    if (reading.head.id !== undefined) open.responseId = reading.head.id;
    if (reading.head.model !== undefined) open.responseModel = reading.head.model;
    if (reading.usageReported) {
      open.inputTokens = reading.usage.promptTokens;
      open.outputTokens = reading.usage.completionTokens;
      if (reading.usage.cachedTokens !== undefined) open.cachedTokens = reading.usage.cachedTokens;
    }
  }

  /** The open call failed with `error`: noted, and thrown again (`throw log.fail(error)` reads as what it does). */
  fail(error: unknown): never {
    const open = this.#open;
    if (open !== undefined) {
      open.endedAt = Date.now();
      const status = (error as { status?: unknown } | null)?.status;
      if (typeof status === 'number') open.status = status;
      open.errorType = typeof status === 'number' ? String(status) : errorName(error);
    }
    throw error;
  }
}

function errorName(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (typeof code === 'string') return code;
  return typeof name === 'string' ? name : '_OTHER';
}
