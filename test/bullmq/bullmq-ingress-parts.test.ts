// The parts of a worker host's ingress that hold its guarantees, on their own: the replay claims on a
// real redis-server (two starts of a job, never three, never after it finished, even when Redis
// forgets) and the canonical JSON that signatures cover.
import assert from 'node:assert/strict';
import { test, describe } from 'node:test';
import { Redis } from 'ioredis';
import { canonicalJSON } from '../../src/transport/bullmq/canonical-json.ts';
import { resolveConnection } from '../../src/transport/bullmq/connection.ts';
import { JobClaims } from '../../src/transport/bullmq/job-claims.ts';
import { JobSigner } from '../../src/transport/bullmq/job-signature.ts';
import { RerunPermits } from '../../src/transport/bullmq/rerun-permit.ts';
import { redisMissing, startRedis } from '../support/redis-helpers.ts';

describe('BullMQ ingress: the parts', { skip: redisMissing }, () => {
  test('claims: a job may start twice (BullMQ re-runs it once after its host died), never a third time, never after it finished', async () => {
    const redis = await startRedis();
    const permits = new RerunPermits(new JobSigner('claims-test-job-secret-0123456789abcdef', { prefix: 'bull', queueName: 'claims' }));
    const [a, b] = await Promise.all(['host-a', 'host-b'].map((host) => JobClaims.open(resolveConnection(redis.url), 'bull', 'claims', host, permits)));
    try {
      assert.ok(a !== undefined && b !== undefined);
      const deadline = Date.now() + 60_000.5;
      assert.deepEqual(await a.claim('j.1', deadline), { ok: true, starts: 1 }, 'the first start');
      assert.deepEqual(await b.claim('j.1', deadline), { ok: true, starts: 2 }, 'the re-run after a stall, on another host');
      assert.deepEqual(await a.claim('j.1', deadline), { ok: false, why: 'started', starts: 2 }, 'no third start');
      assert.deepEqual(await a.claim('j.2', deadline), { ok: true, starts: 1 });
      await b.finished('j.2', deadline);
      assert.deepEqual(await a.claim('j.2', deadline), { ok: false, why: 'ran' }, 'finished on another host: Redis says so');
      const admin = new Redis(redis.url);
      // A host that finished the call and died before BullMQ recorded its result: the producer, which
      // never got it, allows a re-run with its signed permit. A permit written by anyone else is not one.
      await admin.set('bull:claims:sessionpool:rerun:j.3', '1');
      assert.deepEqual(await a.claim('j.3', deadline), { ok: true, starts: 1 });
      await a.finished('j.3', deadline);
      assert.deepEqual(await b.claim('j.3', deadline), { ok: false, why: 'ran' }, 'an unsigned re-run key lets nothing start again');
      await admin.set('bull:claims:sessionpool:rerun:j.3', permits.value('j.3'));
      assert.deepEqual(await b.claim('j.3', deadline), { ok: true, starts: 2 }, "the producer's permit: a second start, after the first finished");
      assert.deepEqual(await a.claim('j.3', deadline), { ok: false, why: 'started', starts: 2 }, 'never a third');
      const ttl = await admin.pttl('bull:claims:sessionpool:claims:j.2');
      assert.ok(ttl > 60_000 && ttl <= 60_000 + 10 * 60_000 + 1000, `the claim lapses after the deadline (${ttl} ms)`);
      await admin.flushall();
      admin.disconnect();
      assert.deepEqual(await b.claim('j.2', deadline), { ok: false, why: 'ran' }, 'Redis forgot; the host that finished it did not');
    } finally {
      a?.close();
      b?.close();
      await redis.stop();
    }
  });
});

test('canonical JSON: a value and its JSON round trip have one form, whatever the key order', () => {
  const value = {
    b: [1, undefined, () => 1, -0, Number.NaN, 'a\u2028\ud800'],
    a: { z: new Date(0), y: undefined, x: { '': null, __proto__x: true } },
    é: 1e21,
  };
  const reordered = { é: 1e21, a: { x: { __proto__x: true, '': null }, z: new Date(0) }, b: value.b };
  const form = canonicalJSON(value);
  assert.equal(form, canonicalJSON(JSON.parse(JSON.stringify(value))));
  assert.equal(form, canonicalJSON(reordered));
  assert.equal(form, '{"a":{"x":{"":null,"__proto__x":true},"z":"1970-01-01T00:00:00.000Z"},"b":[1,null,null,0,null,"a\u2028\\ud800"],"é":1e+21}');
  let deep: unknown = 1;
  for (let i = 0; i < 300; i++) deep = [deep];
  assert.throws(() => canonicalJSON(deep), /nested at most 256/);
});
