import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { within } from '../support/waits.ts';
import { harness, KEYS, released, user, waitForTransition, type Harness } from '../support/helpers.ts';

describe('chat through the public API', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  for (const provider of ['kimi', 'glm'] as const) {
    test(`${provider}: a result in the contract's shape, with session metadata`, async () => {
      const result = await h.supervisor.chat({ provider, messages: user('Say hello'), metadata: { tenant: 't1' } });
      assert.equal(result.provider, provider);
      assert.equal(result.model, provider === 'kimi' ? 'moonshot-v1-8k' : 'glm-4.5-flash');
      assert.match(result.content, /^Answer to "Say hello"/);
      assert.equal(result.finishReason, 'stop');
      assert.equal(result.usage.completionTokens, 16);
      assert.equal(result.usage.totalTokens, result.usage.promptTokens + result.usage.completionTokens);
      const { session } = result.metadata;
      assert.match(session.sessionId, /^[0-9a-f-]{36}$/);
      assert.match(session.requestId, /^[0-9a-f-]{36}$/);
      assert.equal(session.attempts, 1);
      assert.ok(session.durationSeconds > 0);
      await waitForTransition(h, released(session.sessionId));
      const path = h.transitions.filter((e) => e.sessionId === session.sessionId).map((e) => e.to);
      assert.deepEqual(path, ['created', 'processing', 'completed', 'released']);
    });
  }

  test('the request reaches the provider with its key, model, defaults and no leaked SDK retries', async () => {
    h.mock.reset();
    await h.supervisor.chat({ provider: 'kimi', model: 'kimi-k2-turbo-preview', messages: user('x'), maxOutputTokens: 77 });
    await h.supervisor.chat({ provider: 'glm', prompt: 'y', systemPrompt: 'Be brief.', temperature: 0 });
    const [kimi, glm] = h.mock.requests;
    assert.equal(kimi?.headers['authorization'], `Bearer ${KEYS.kimi}`);
    assert.deepEqual(kimi?.body, { model: 'kimi-k2-turbo-preview', messages: user('x'), temperature: 0.6, max_tokens: 77 });
    assert.equal(glm?.headers['authorization'], `Bearer ${KEYS.glm}`);
    assert.deepEqual(glm?.body?.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'y' },
    ]);
    assert.equal(glm?.body?.['temperature'], 0.01, 'GLM temperature is clamped into (0, 1]');
    assert.equal(kimi?.headers['x-stainless-retry-count'] ?? '0', '0');
  });

  test("a caller's requestId is echoed in the result and the transitions", async () => {
    const result = await h.supervisor.chat({ provider: 'glm', prompt: 'hi', requestId: 'order-42' });
    assert.equal(result.metadata.session.requestId, 'order-42');
    const event = await waitForTransition(h, released(result.metadata.session.sessionId));
    assert.equal(event.requestId, 'order-42');
  });

  test('12 calls run side by side: the provider sees all 12 open at once', async () => {
    h.mock.reset();
    // The provider holds every answer: the 12 can only be open together if none waited for another,
    // however slowly a busy machine starts them (a timed answer could end before the last started).
    const controllers = Array.from({ length: 12 }, () => new AbortController());
    const calls = controllers.map((controller, i) =>
      h.supervisor.chat({ provider: i % 2 ? 'kimi' : 'glm', messages: user(`call ${i} [[mock hang]]`), signal: controller.signal }).then(
        () => ({ code: 'answered', sessionId: '' }),
        (error: { code: string; sessionId: string }) => error,
      ),
    );
    await within(h.mock.waitForInFlight(12), 30_000, () => `12 calls open at the provider at once (open: ${h.mock.inFlight})`);
    assert.equal(h.mock.maxInFlight, 12);
    for (const controller of controllers) controller.abort();
    const ended = await Promise.all(calls);
    assert.deepEqual(
      ended.map((e) => e.code),
      Array(12).fill('ERR_SESSION_ABORTED'),
    );
    await within(h.mock.waitForClosed(12), 10_000, 'the 12 HTTP calls cut by the aborts');
    // Released once their workers confirmed the aborts: only then does stats() count them.
    await within(Promise.all(ended.map((e) => waitForTransition(h, released(e.sessionId)))), 10_000, 'the 12 aborted sessions released');
  });

  test('stats count what happened', async () => {
    const stats = h.supervisor.stats();
    assert.equal(stats.states.created + stats.states.processing, 0);
    assert.ok(stats.completed >= 4, JSON.stringify(stats));
    assert.equal(stats.failed, 0);
    // The 12 held calls, aborted by their callers.
    assert.equal(stats.aborted, 12);
    assert.ok(stats.latencyMs.byProvider['kimi']!.count > 0);
    assert.equal(stats.pool.threads, 2);
  });
});

test('a host with nothing else to do waits for workerHeaps() right after ready(): idle threads hold it open no longer, the call does', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const script = `
    import { createSupervisor } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};
    const supervisor = createSupervisor({ threads: 2, logger: false });
    await supervisor.ready();
    const heaps = await supervisor.workerHeaps();
    await supervisor.close();
    console.log(heaps.length);`;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(stdout.trim(), '2', stderr);
});

test("ready() resolves once every worker thread is up; workerHeaps() reads each thread's heap", async () => {
  const { createSupervisor } = await import('../../src/index.ts');
  const supervisor = createSupervisor({ threads: 2, logger: false });
  await supervisor.ready();
  assert.equal(supervisor.stats().pool.threads, 2);
  const heaps = await supervisor.workerHeaps();
  assert.equal(heaps.length, 2, 'one heap per thread');
  for (const heap of heaps) assert.ok(heap.threadId > 0 && heap.heapUsed > 0, JSON.stringify(heap));
  await supervisor.close();
});

test('a supervisor closed before its threads are up: ready() says it was closed, not that a thread crashed', async () => {
  const { createSupervisor } = await import('../../src/index.ts');
  for (let i = 0; i < 3; i++) {
    const supervisor = createSupervisor({ threads: 2, logger: false });
    const ready = supervisor.ready().then(
      () => 'ready',
      (error: { code?: string }) => error.code,
    );
    await supervisor.close();
    // A thread may still have come up before close() stopped it; one stopped on the way never reads as crashed.
    assert.ok(['ready', 'ERR_SUPERVISOR_CLOSED'].includes((await ready) ?? ''), `ready() settled with ${await ready}`);
  }
});
