/**
 * A bound on the call input (prompts and messages) the server holds in progress at once. Each
 * message is at most 4 MiB, but nothing bounded how many: one stdio client sending calls that wait
 * in the engine's queue (up to maxConcurrent + maxQueue = 1088 by default) made the server hold
 * about 7 MB per 4 MiB call (1.2 GB after 150 calls, measured), enough to run it out of memory.
 * A call whose input does not fit is refused at once, ERR_QUEUE_FULL (retryable), before any
 * session; the budget is per engine, shared by every transport and session.
 */
import type { Supervisor } from '../../api/public.ts';
import type { ChatToolInput } from './chat-schema.ts';

/** 256 MiB: 64 calls of the largest message size, or thousands of ordinary ones. */
export const DEFAULT_MAX_INPUT_BYTES_IN_FLIGHT = 256 * 1024 * 1024;

export class InputBudget {
  readonly max: number;
  #used = 0;

  constructor(max: number) {
    this.max = max;
  }

  get used(): number {
    return this.#used;
  }

  /** Reserves `bytes`: the function that gives them back (once), or undefined when they do not fit. */
  take(bytes: number): (() => void) | undefined {
    if (this.#used + bytes > this.max) return undefined;
    this.#used += bytes;
    let held = true;
    return () => {
      if (held) this.#used -= bytes;
      held = false;
    };
  }
}

const budgets = new WeakMap<Supervisor, InputBudget>();

/** The budget of an engine (created at the first call with `max`; every server on that engine shares it). */
export function budgetOf(supervisor: Supervisor, max = DEFAULT_MAX_INPUT_BYTES_IN_FLIGHT): InputBudget {
  let budget = budgets.get(supervisor);
  if (budget === undefined) budgets.set(supervisor, (budget = new InputBudget(max)));
  return budget;
}

/** The text a call hands the engine, in UTF-8 bytes: what the engine holds while the call waits and runs. */
export function inputBytes(args: ChatToolInput): number {
  let bytes = 0;
  for (const text of [args.prompt, args.systemPrompt, args.model, args.cache?.id]) if (text !== undefined) bytes += Buffer.byteLength(text);
  for (const message of args.messages ?? []) bytes += Buffer.byteLength(message.content) + 16;
  return bytes;
}
