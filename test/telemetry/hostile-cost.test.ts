// Cost and budgets under hostile input: a caller's `metadata.tag` that names a property of
// Object.prototype, a provider (or anyone on its path) that reports negative usage, and a flood
// of distinct tags.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createSupervisor } from '../../src/index.ts';
import { harness } from '../support/helpers.ts';

test('a caller tag named __proto__ or constructor pollutes no prototype, and its spend is counted under its name', async () => {
  const h = await harness();
  try {
    for (const tag of ['__proto__', 'constructor', 'toString', 'hasOwnProperty'])
      await h.supervisor.chat({ provider: 'kimi', prompt: 'Tagged', metadata: { tag }, timeoutMs: 20_000 });
    const probe: Record<string, unknown> = {};
    assert.equal(probe['USD'], undefined, 'Object.prototype gained no USD property');
    assert.equal((Object as unknown as Record<string, unknown>)['USD'], undefined, 'Object gained no USD property');
    const { byTag } = h.supervisor.stats().cost;
    for (const tag of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assert.ok(Object.hasOwn(byTag, tag), `byTag has its own ${tag}`);
      assert.ok((byTag[tag]?.['USD'] ?? 0) > 0, `${tag} spent something`);
    }
  } finally {
    delete (Object.prototype as unknown as Record<string, unknown>)['USD'];
    delete (Object as unknown as Record<string, unknown>)['USD'];
    delete (Object.prototype.toString as unknown as Record<string, unknown>)['USD'];
    delete (Object.prototype.hasOwnProperty as unknown as Record<string, unknown>)['USD'];
    await h.close();
  }
});

test('a budget or a price keyed __proto__ (as JSON.parse makes them) is refused with ERR_INVALID_REQUEST, not dropped', () => {
  for (const options of [
    { budgets: { tags: JSON.parse('{"__proto__": {"limit": 0}}') } },
    { budgets: { providers: JSON.parse('{"__proto__": {"limit": 0}}') } },
    { prices: JSON.parse('{"__proto__": {"input": 1, "output": 1, "currency": "USD"}}') },
  ])
    assert.throws(
      () => createSupervisor({ threads: 1, logger: false, ...options }),
      (error: { code?: string; message: string }) => error.code === 'ERR_INVALID_REQUEST' && error.message.includes('__proto__'),
      JSON.stringify(options),
    );
});

/** A provider that answers every chat call with `usage`. */
async function usageProvider(usage: Record<string, unknown>): Promise<{ server: Server; baseURL: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'chatcmpl-evil',
          object: 'chat.completion',
          model: 'gpt-4o-mini',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage,
        }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

test('negative usage from a provider makes no negative cost, and cannot lift a spent budget', async () => {
  const evil = await usageProvider({ prompt_tokens: -1_000_000_000, completion_tokens: -5, cached_tokens: -7, total_tokens: -1 });
  const supervisor = createSupervisor({
    threads: 1,
    logger: false,
    providers: { evil: { baseURL: evil.baseURL, apiKey: 'sk-evil-0123456789', dialect: 'openai', defaultModel: 'gpt-4o-mini' } },
    budgets: { providers: { evil: { limit: 0 } } },
  });
  try {
    // The provider's budget is 0: spent from the start, so the first session is refused...
    const first = await supervisor.chat({ provider: 'evil', prompt: 'x', timeoutMs: 20_000 }).then(
      () => 'ran',
      (error: { code: string }) => error.code,
    );
    assert.equal(first, 'ERR_BUDGET_EXCEEDED');
  } finally {
    await supervisor.close();
  }
  const open = createSupervisor({
    threads: 1,
    logger: false,
    providers: { evil: { baseURL: evil.baseURL, apiKey: 'sk-evil-0123456789', dialect: 'openai', defaultModel: 'gpt-4o-mini' } },
    budgets: { providers: { evil: { limit: 0.000001 } } },
  });
  try {
    const result = await open.chat({ provider: 'evil', prompt: 'x', timeoutMs: 20_000 });
    assert.ok(result.usage.promptTokens >= 0 && result.usage.completionTokens >= 0, `usage ${JSON.stringify(result.usage)}`);
    assert.ok((result.usage.cachedTokens ?? 0) >= 0, `cached ${result.usage.cachedTokens}`);
    const amount = result.metadata.cost?.amount ?? 0;
    assert.ok(amount >= 0, `cost ${amount}`);
    for (const value of Object.values(open.stats().cost.total)) assert.ok(value >= 0, `total ${value}`);
    assert.doesNotMatch(open.metrics(), /sessionpool_cost_total\{[^}]*\} -/, 'no negative counter');
  } finally {
    await open.close();
    evil.server.close();
  }
});

test('a flood of distinct caller tags does not grow stats().cost.byTag without bound', async () => {
  const h = await harness({ supervisor: { maxConcurrent: 16 } as never });
  try {
    const tags = 1200;
    for (let batch = 0; batch < tags; batch += 100)
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          h.supervisor.chat({ provider: 'kimi', prompt: 'Flood', metadata: { tag: `tenant-${batch + i}-${'x'.repeat(200)}` }, timeoutMs: 30_000 }),
        ),
      );
    const { byTag, total } = h.supervisor.stats().cost;
    const kept = Object.keys(byTag).length;
    assert.ok(kept <= 1025, `byTag kept ${kept} tags`);
    assert.ok((total['USD'] ?? 0) > 0, 'spend is still counted in total');
  } finally {
    await h.close();
  }
});

test('a spent provider budget is not spent further through a fallback: that target is left out', async () => {
  const h = await harness({ supervisor: { budgets: { providers: { glm: { limit: 0 } } } } });
  try {
    const failed = await h.supervisor
      .chat({
        provider: 'kimi',
        prompt: 'Falls back [[mock failTimes=1 status=503 key=budget-fallback]]',
        maxRetries: 0,
        fallbacks: [{ provider: 'glm', model: 'glm-4.6' }],
        timeoutMs: 20_000,
      })
      .then(
        (result) => `answered by ${result.provider}`,
        (error: { code: string }) => error.code,
      );
    assert.notEqual(failed, 'answered by glm', 'the spent glm budget was spent further');
    assert.equal(h.mock.requests.filter((r) => r.dialect === 'glm').length, 0, 'no call went to glm');
    assert.equal(h.supervisor.stats().cost.byProvider['glm'], undefined);
  } finally {
    await h.close();
  }
});
