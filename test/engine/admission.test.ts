import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admission } from '../../src/engine/admission.ts';

test('runs up to maxConcurrent, queues up to maxQueue, refuses the rest', () => {
  const admission = new Admission<string>(2, 2);
  assert.deepEqual(
    ['a', 'b', 'c', 'd', 'e'].map((id) => admission.admit(id, id)),
    ['run', 'run', 'queue', 'queue', 'reject'],
  );
  assert.equal(admission.running, 2);
  assert.equal(admission.queued, 2);
});

test('a freed slot goes to the longest-waiting session, in FIFO order', () => {
  const admission = new Admission<string>(1, 10);
  for (const id of ['a', 'b', 'c', 'd']) admission.admit(id, id);
  assert.equal(admission.withdraw('c'), true);
  assert.equal(admission.withdraw('c'), false);
  assert.deepEqual([admission.release(), admission.release(), admission.release()], ['b', 'd', undefined]);
  assert.equal(admission.running, 0);
});

test('a new session never overtakes the queue', () => {
  const admission = new Admission<string>(1, 10);
  admission.admit('a', 'a');
  admission.admit('b', 'b');
  assert.equal(admission.release(), 'b');
  assert.equal(admission.admit('c', 'c'), 'queue');
});

test('maxQueue 0 refuses as soon as every slot is taken; drainQueue empties it', () => {
  const admission = new Admission<string>(1, 0);
  assert.equal(admission.admit('a', 'a'), 'run');
  assert.equal(admission.admit('b', 'b'), 'reject');
  const other = new Admission<string>(1, 5);
  for (const id of ['a', 'b', 'c']) other.admit(id, id);
  assert.deepEqual(other.drainQueue(), ['b', 'c']);
  assert.equal(other.queued, 0);
});
