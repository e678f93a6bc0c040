// Everything a worker sends back passes this gate before the engine sees it: event batches (retry
// errors, deltas) and task outcomes (results, continuation errors, failures, crash messages). So the
// engine, its events, the inspection events, logs, metrics, the live feed and the CLI only ever
// handle scrubbed strings. Handler outputs of `execute` are the caller's own data and pass as they are.
import type { EventBatch, SessionEvent, SessionTask, TaskOutcome } from '../wire/protocol.ts';
import { TaskRefusedError } from '../errors/errors.ts';
import { passThrough, type Dispatcher, type RunReceiver } from '../seam/seam.ts';
import type { Redactor } from '../util/redact.ts';

function scrubEvent(event: SessionEvent, redactor: Redactor): SessionEvent {
  if (event.type === 'delta') return { ...event, text: redactor.text(event.text) };
  if (event.type === 'retry') return { ...event, error: redactor.deep(event.error) };
  return event;
}

export function scrubBatch(batch: EventBatch, redactor: Redactor): EventBatch {
  if (redactor.empty) return batch;
  return { threadId: batch.threadId, events: batch.events.map((event) => scrubEvent(event, redactor)) };
}

function scrubOutcome(outcome: TaskOutcome, kind: SessionTask['kind'], redactor: Redactor): TaskOutcome {
  // A traced session's call records (response ids and models, as the provider sent them) leave too:
  // over BullMQ they go to the producer, which may not know this host's keys.
  const calls = outcome.calls === undefined ? undefined : redactor.deep(outcome.calls);
  const scrubbed = calls === outcome.calls ? outcome : { ...outcome, calls };
  if (!scrubbed.ok) {
    const error = redactor.deep(scrubbed.error);
    return error === scrubbed.error ? scrubbed : { ...scrubbed, error };
  }
  if (kind !== 'chat') return scrubbed;
  const value = redactor.deep(scrubbed.value);
  return value === scrubbed.value ? scrubbed : { ...scrubbed, value };
}

/** A crash's message, scrubbed; a refusal stays a refusal (the engine tells it apart: nothing ran). */
function scrubCrash(error: unknown, redactor: Redactor): Error {
  const message = redactor.text(error instanceof Error ? error.message : String(error));
  return error instanceof TaskRefusedError ? new TaskRefusedError(message) : new Error(message);
}

/** The dispatcher whose outcomes and crash errors are scrubbed. */
export function redactingDispatcher(inner: Dispatcher, redactor: Redactor): Dispatcher {
  if (redactor.empty) return inner;
  // One scrubbing receiver per receiver (the engine has one): no allocation per run.
  const scrubbing = new WeakMap<RunReceiver, RunReceiver>();
  const scrubbingFor = (receiver: RunReceiver): RunReceiver => {
    let wrapped = scrubbing.get(receiver);
    if (wrapped === undefined) {
      wrapped = {
        settled: (task, outcome) => receiver.settled(task, scrubOutcome(outcome, task.kind, redactor)),
        crashed: (task, error) => receiver.crashed(task, scrubCrash(error, redactor)),
      };
      scrubbing.set(receiver, wrapped);
    }
    return wrapped;
  };
  return passThrough(inner, { run: (task, receiver) => inner.run(task, scrubbingFor(receiver)) });
}
