// A producer's presence as worker hosts read it (src/transport/bullmq/producer-presence.ts): its
// named connection in Redis's client table, found by the client id its liveness key holds. A
// producer whose connection closed is "away" at once and "gone" after the grace period; one that
// reconnects (a new client id in its key) is back; where CLIENT LIST is not allowed the key decides.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { GRACE_MS, presenceValue, ProducerPresence, producerClientName } from '../../src/transport/bullmq/producer-presence.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';
import { until } from '../support/waits.ts';

/** A producer's presence connection, named as producers name it; resolves with its liveness key's value. */
async function presenceConnection(redis: TestRedis, producerId: string): Promise<{ client: Redis; value: string }> {
  const client = new Redis(redis.url, { connectionName: producerClientName(producerId), maxRetriesPerRequest: 1 });
  return { client, value: presenceValue(await client.client('ID')) };
}

describe('producer presence (CLIENT LIST ID)', { skip: redisMissing }, () => {
  let redis: TestRedis;
  let commands: Redis;
  before(async () => {
    redis = await startRedis();
    commands = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    commands?.disconnect();
    await redis?.stop();
  });

  test('connected: here; its connection closed: away at once, gone after the grace period; never here again with that client id', async () => {
    const presence = new ProducerPresence(commands, () => assert.fail('no warning expected'));
    const { client, value } = await presenceConnection(redis, 'p-dies');
    assert.equal(await presence.of('p-dies', value), 'here');
    const closedAt = performance.now();
    client.disconnect();
    await until(async () => (await presence.of('p-dies', value)) === 'away', 1000, 'the producer away once its connection closed');
    assert.ok(performance.now() - closedAt < 250, `away ${Math.round(performance.now() - closedAt)} ms after its connection closed`);
    await until(async () => (await presence.of('p-dies', value)) === 'gone', GRACE_MS + 1000, 'the producer gone after the grace period');
    assert.ok(performance.now() - closedAt >= GRACE_MS, 'not gone before the grace period');
  });

  test('away, then reconnected under a new client id within the grace period: here again', async () => {
    const presence = new ProducerPresence(commands, () => assert.fail('no warning expected'));
    const first = await presenceConnection(redis, 'p-blip');
    first.client.disconnect();
    await until(async () => (await presence.of('p-blip', first.value)) === 'away', 1000, 'the producer away');
    const second = await presenceConnection(redis, 'p-blip');
    try {
      assert.equal(await presence.of('p-blip', second.value), 'here');
    } finally {
      second.client.disconnect();
    }
  });

  test('a client id now held by another client (Redis restarted, ids start again) is not the producer', async () => {
    const presence = new ProducerPresence(commands, () => assert.fail('no warning expected'));
    const other = new Redis(redis.url, { connectionName: 'someone-else', maxRetriesPerRequest: 1 });
    try {
      const value = presenceValue(await other.client('ID'));
      assert.equal(await presence.of('p-reused', value), 'away');
    } finally {
      other.disconnect();
    }
  });

  test('a liveness value without a client id (an older producer) and a host without CLIENT LIST: unknown, said once', async () => {
    await commands.call('ACL', 'SETUSER', 'nolist', 'on', '>nolist-pass', '~*', '+@all', '-client');
    const limited = new Redis({ host: '127.0.0.1', port: redis.port, username: 'nolist', password: 'nolist-pass', maxRetriesPerRequest: 1 });
    const warnings: string[] = [];
    try {
      const presence = new ProducerPresence(limited, (message) => warnings.push(message));
      assert.equal(await presence.of('p-old', '1'), 'unknown');
      const { client, value } = await presenceConnection(redis, 'p-acl');
      client.disconnect();
      assert.equal(await presence.of('p-acl', value), 'unknown');
      assert.equal(await presence.of('p-acl', value), 'unknown');
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0] ?? '', /not allowed.*liveness key/);
    } finally {
      limited.disconnect();
    }
  });
});
