// What crosses Redis, in both directions: a job's data (the task without any provider secret: the
// worker host resolves the provider by name), its progress messages (the pick-up, then batches of
// worker events) and its return value (the outcome, and the host that ran it). All plain JSON.
import type { WireError } from '../../types/errors.ts';
import type { CallOutcome, ChatTask, ExecuteTask, SessionEvent, SessionTask } from '../../wire/protocol.ts';

/** A chat task as queued: the provider by name only; the worker host holds its URL and key. */
export type QueuedChatTask = Omit<ChatTask, 'provider' | 'flow' | 'budgetMs'> & { provider: string };
/** An execute task as queued: its handler module's file: URL, run only by hosts that allow that module. */
export type QueuedExecuteTask = Omit<ExecuteTask, 'budgetMs'>;
export type QueuedTask = QueuedChatTask | QueuedExecuteTask;

export interface JobData {
  task: QueuedTask;
  /** Epoch milliseconds (Date.now()) at which the session's deadline falls: the worker host ends the call by then. */
  deadline: number;
  /** The producer that queued it: a host refuses the job, without a call, once that producer is gone (fence-keys.ts). */
  producer: string;
}

/** As added to the queue: signed by the producer (job-signature.ts). */
export interface SignedJobData extends JobData {
  /** `v1.` and the base64url HMAC-SHA256 of the job id, queue and data under the shared job secret. */
  sig: string;
}

/** The first progress message says which host took the job; later ones carry worker events. */
export interface JobProgress {
  picked?: { host: string };
  events?: SessionEvent[];
}

/** A job's return value: how the call ended, or that the worker thread running it died. */
export type JobResult = { host: string; threadId: number; outcome: CallOutcome } | { host: string; crashed: string };

/** Abort messages, published to every worker host. */
export interface AbortMessage {
  sessionId: string;
  reason: 'timeout' | 'aborted' | 'closed';
}

export function queuedTask(task: SessionTask): QueuedTask {
  if (task.kind === 'execute') {
    const { budgetMs: _budget, ...rest } = task;
    return rest;
  }
  const { provider, flow: _flow, budgetMs: _budget, ...rest } = task;
  return { ...rest, provider: provider.name };
}

export function channelOf(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:sessionpool:aborts`;
}

export function wireError(code: string, name: string, message: string, retryable = false): WireError {
  return { code, name, message, retryable };
}
