import { randomUUID } from 'node:crypto';
import type { ChatResult } from '../protocol.ts';

export type StreamEvent = { type: 'delta'; text: string } | { type: 'result'; result: ChatResult };

type Start = (onDelta: (text: string) => void, signal: AbortSignal, sessionId: string) => Promise<ChatResult>;

/**
 * Adapts a streamed session to an async iterator: deltas as they arrive (several may be joined
 * when the consumer is slower than the stream), then the result. Leaving the loop early aborts
 * the session; a failed session throws its typed error from the iterator. `start` runs at once
 * (what it throws, `streamSession` throws); `credit(sessionId)` reports what the consumer read, so
 * that the worker never runs more than a window ahead of it.
 */
export function streamSession(start: Start, credit: (sessionId: string) => (chars: number) => void): AsyncIterableIterator<StreamEvent> {
  const controller = new AbortController();
  const sessionId = randomUUID();
  const read = credit(sessionId);
  let buffered = '';
  let final: { result: ChatResult } | { error: unknown } | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  start((text) => {
    buffered += text;
    notify();
  }, controller.signal, sessionId).then(
    (result) => {
      final = { result };
      notify();
    },
    (error: unknown) => {
      final = { error };
      notify();
    },
  );

  const iterator: AsyncIterableIterator<StreamEvent> = {
    async next(): Promise<IteratorResult<StreamEvent>> {
      for (;;) {
        if (buffered !== '') {
          const text = buffered;
          buffered = '';
          read(text.length);
          return { done: false, value: { type: 'delta', text } };
        }
        if (finished) return { done: true, value: undefined };
        if (final !== undefined) {
          finished = true;
          if ('error' in final) throw final.error;
          return { done: false, value: { type: 'result', result: final.result } };
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return(): Promise<IteratorResult<StreamEvent>> {
      if (!finished && final === undefined) controller.abort();
      finished = true;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
