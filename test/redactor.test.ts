// Redactor.deep scrubs plain data copy-on-write: a value with no secret in it comes back as the
// same object (a result per session crosses it on the main thread), one with a secret comes back
// as a scrubbed copy, and the original is never changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, Redactor } from '../src/redact.ts';

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
