import { randomUUID } from 'node:crypto';
import type { ResponseHead, ChatResult, ToolCall } from '../types/chat.ts';
import type { StreamPartEvent } from '../wire/protocol.ts';
import { StreamTally } from './stream-tally.ts';
import type { StreamEvent } from '../types/session.ts';

export type { ResponseHead, ToolCall };

type Start = (onDelta: (text: string) => void, onEvent: (event: StreamPartEvent) => void, signal: AbortSignal, sessionId: string) => Promise<ChatResult>;

/**
 * Adapts a streamed session to an async iterator: events as they arrive (consecutive text or
 * reasoning pieces are joined when the consumer is slower than the stream), then the result.
 * Leaving the loop early aborts the session; a failed session throws its typed error from the iterator.
 * `start` runs at once (what it throws, `streamSession` throws); `credit(sessionId)` reports the answer
 * text the consumer read, so that the worker never runs more than a window ahead of it.
 */
export function streamSession(start: Start, credit: (sessionId: string) => (chars: number) => void): AsyncIterableIterator<StreamEvent> {
  const controller = new AbortController();
  const sessionId = randomUUID();
  const read = credit(sessionId);
  const queue: StreamEvent[] = [];
  const tally = new StreamTally();
  let final: { result: ChatResult } | { error: unknown } | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const push = (event: StreamEvent) => {
    tally.see(event);
    const last = queue.at(-1);
    if ((event.type === 'delta' || event.type === 'reasoning') && last?.type === event.type) last.text += event.text;
    else queue.push(event);
    notify();
  };
  start(
    (text) => push({ type: 'delta', text }),
    ({ sessionId: _, ...event }) => push(event as StreamEvent),
    controller.signal,
    sessionId,
  ).then(
    (result) => {
      tally.complete(queue, result);
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
        const event = queue.shift();
        if (event !== undefined) {
          if (event.type === 'delta') read(event.text.length);
          return { done: false, value: event };
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
