// `node benchmarks/result-signing.ts [--count N]`
//
// What signing a worker host's progress messages costs (result-signature.ts), per message, on each
// end, against what the same message cost before it was signed: the host's JSON.stringify (which
// BullMQ does in updateProgress) and the producer's JSON.parse (BullMQ's QueueEvents). Batches are
// what the relay sends: 1 event (a quiet stream), 10 and 100 deltas (deltas piling up while one
// update is on its way to Redis).
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { JobSigner, type ProgressCursor, ResultGuard, ResultSigner } from '../src/api/internal.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '20000' } } });
const count = Number(values.count);
const sessionId = '7f0c1d52-0b8e-4d7b-9d43-0a4d1f1e2c3b';
const jobId = `${sessionId}.1`;
const signer = new ResultSigner(new JobSigner('a-benchmark-job-secret-0123456789abcdef', { prefix: 'bull', queueName: 'sessions' }));

function batch(n: number) {
  return { events: Array.from({ length: n }, (_, i) => ({ type: 'delta' as const, sessionId, text: ` word${i} of the answer` })) };
}

/** Mean microseconds per call of `fn` over `count` calls, after a warm-up. */
function perCall(fn: (i: number) => unknown): number {
  for (let i = 0; i < 2000; i++) fn(i);
  const start = performance.now();
  for (let i = 0; i < count; i++) fn(i);
  return ((performance.now() - start) * 1000) / count;
}

const rows: Array<Record<string, string | number>> = [];
for (const size of [1, 10, 100]) {
  const progress = batch(size);
  const plainText = JSON.stringify(progress);
  // Host: before, BullMQ's stringify of the payload; now, seal (stringify + HMAC) and BullMQ's stringify of the envelope.
  const hostBefore = perCall(() => JSON.stringify(progress));
  const sealer = signer.sealer(jobId, sessionId, 1);
  const hostAfter = perCall(() => JSON.stringify(sealer.seal(progress)));
  // Producer: before, QueueEvents' parse; now, the same parse of the envelope, then verify and parse the body.
  const seal = signer.sealer(jobId, sessionId, 1);
  const sealed = Array.from({ length: 1000 }, () => JSON.stringify(seal.seal(progress)));
  const producerBefore = perCall(() => JSON.parse(plainText));
  const counts = { forged: 0 };
  const guard = new ResultGuard(signer, counts, undefined);
  const holder: { sessionId: string; cursor?: ProgressCursor } = { sessionId };
  const producerAfter = perCall((i) => {
    // The same 1000 messages again and again: each taken as new (the order check is one comparison).
    holder.cursor = undefined;
    return guard.progress(jobId, holder, JSON.parse(sealed[i % 1000] as string));
  });
  if (counts.forged !== 0) throw new Error('a genuine message failed verification');
  rows.push({
    events: size,
    bytesBefore: plainText.length,
    bytesAfter: (sealed[0] as string).length,
    hostBeforeUs: +hostBefore.toFixed(2),
    hostAfterUs: +hostAfter.toFixed(2),
    producerBeforeUs: +producerBefore.toFixed(2),
    producerAfterUs: +producerAfter.toFixed(2),
  });
}
console.table(rows);
