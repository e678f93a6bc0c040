// Redactor.deep scrubs plain data copy-on-write: a value with no secret in it comes back as the
// same object (a result per session crosses it on the main thread), one with a secret comes back
// as a scrubbed copy, and the original is never changed. The redaction gate applies it to every
// run's end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskRefusedError } from '../../src/errors/errors.ts';
import type { Dispatcher, RunReceiver } from '../../src/seam/seam.ts';
import type { SessionTask } from '../../src/wire/protocol.ts';
import { REDACTED, Redactor } from '../../src/util/redact.ts';
import { redactingDispatcher } from '../../src/pool/redact-gate.ts';

const KEY = 'sk-secret-key-123456';
const redactor = new Redactor([KEY]);

test('data without a secret comes back as the very same objects', () => {
  const value = { content: 'hello', choices: [{ message: { content: 'hello' } }], usage: { total_tokens: 3 }, nothing: null };
  assert.equal(redactor.deep(value), value);
  assert.equal(redactor.deep([value, 'plain', 1]).at(0), value);
});

test('a secret anywhere is blanked in a copy; the siblings it did not touch are shared, the original is untouched', () => {
  const untouched = { total_tokens: 3 };
  const value = { content: `key ${KEY}`, choices: [{ message: { content: 'ok' } }, { message: { content: KEY } }], usage: untouched };
  const scrubbed = redactor.deep(value);
  assert.notEqual(scrubbed, value);
  assert.deepEqual(scrubbed, {
    content: `key ${REDACTED}`,
    choices: [{ message: { content: 'ok' } }, { message: { content: REDACTED } }],
    usage: { total_tokens: 3 },
  });
  assert.equal(scrubbed.usage, untouched);
  assert.equal(scrubbed.choices[0], value.choices[0]);
  assert.equal(value.content, `key ${KEY}`);
  assert.equal(value.choices[1]?.message.content, KEY);
});

test('class instances pass as they are, a cycle ends, an empty redactor copies nothing', () => {
  const date = new Date(0);
  assert.equal(redactor.deep({ date }).date, date);
  const cyclic: Record<string, unknown> = { content: 'fine' };
  cyclic.self = cyclic;
  assert.equal(redactor.deep(cyclic), cyclic);
  const value = { content: KEY };
  assert.equal(new Redactor([]).deep(value), value);
});

test('the redaction gate scrubs what a run ends with, and a refusal stays a refusal', () => {
  const ended: Array<{ how: string; value: unknown }> = [];
  const receiver: RunReceiver = {
    settled: (_task, outcome) => ended.push({ how: 'settled', value: outcome }),
    crashed: (_task, error) => ended.push({ how: 'crashed', value: error }),
  };
  const outcomes: Array<(task: SessionTask, to: RunReceiver) => void> = [
    (task, to) => to.settled(task, { ok: true, value: { content: `echo ${KEY}` }, attempts: 1, threadId: 1 }),
    (task, to) => to.settled(task, { ok: true, value: { content: 'clean' }, attempts: 1, threadId: 1 }),
    (task, to) => to.crashed(task, new TaskRefusedError(`queue full near ${KEY}`)),
    (task, to) => to.crashed(task, new Error(`thread died holding ${KEY}`)),
  ];
  const inner = { run: (task: SessionTask, to: RunReceiver) => outcomes.shift()?.(task, to) } as unknown as Dispatcher;
  const gate = redactingDispatcher(inner, redactor);
  const task = { kind: 'chat', sessionId: 's', requestId: 'r', budgetMs: 1000, run: 1 } as SessionTask;
  for (let i = 0; i < 4; i++) gate.run(task, receiver);
  assert.deepEqual(
    ended.map((e) => e.how),
    ['settled', 'settled', 'crashed', 'crashed'],
  );
  const [leaked, clean, refused, crashed] = ended.map((e) => e.value) as [{ value: unknown }, { value: unknown }, Error, Error];
  assert.deepEqual(leaked.value, { content: `echo ${REDACTED}` });
  assert.deepEqual(clean.value, { content: 'clean' });
  assert.ok(refused instanceof TaskRefusedError, 'the engine tells a refusal (nothing ran) from a crash by its class');
  assert.equal(refused.message, `queue full near ${REDACTED}`);
  assert.ok(!(crashed instanceof TaskRefusedError));
  assert.equal(crashed.message, `thread died holding ${REDACTED}`);
});
