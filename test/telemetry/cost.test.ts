// Cost: every completed chat says what it cost (`result.metadata.cost`, continuation rounds summed)
// at the shipped prices or the supervisor's; spend shows in stats() by provider and tag; budgets
// refuse a session before its call with ERR_BUDGET_EXCEEDED.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BudgetExceededError, PRICES } from '../../src/index.ts';
import { costOf, priceMap } from '../../src/telemetry/cost.ts';
import { harness } from '../support/helpers.ts';

test('the shipped table names its sources and date; costOf prices cached input apart', () => {
  assert.ok(PRICES.source.length >= 3 && /^\d{4}-\d{2}-\d{2}$/.test(PRICES.date));
  for (const provider of ['kimi', 'glm', 'openai'])
    assert.ok(
      Object.values(PRICES.models).some((p) => p.provider === provider),
      provider,
    );
  const prices = priceMap({ 'my-model': { input: 2, cachedInput: 0.5, output: 10, currency: 'EUR' } });
  const cost = costOf(prices, { promptTokens: 1_000_000, cachedTokens: 400_000, completionTokens: 100_000, totalTokens: 1_100_000 }, 'unknown', 'my-model');
  assert.deepEqual(cost, {
    amount: 1.2 + 0.2 + 1,
    currency: 'EUR',
    model: 'my-model',
    inputTokens: 600_000,
    cachedInputTokens: 400_000,
    outputTokens: 100_000,
  });
  assert.equal(costOf(priceMap(false), { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, 'gpt-4o-mini'), undefined);
});

test('result.metadata.cost sums continuation rounds; stats().cost by provider and tag; an unpriced model counts apart', async () => {
  const h = await harness({ supervisor: { prices: { 'custom-model': { input: 1, output: 2, currency: 'USD' } } } });
  try {
    const result = await h.supervisor.chat({ provider: 'kimi', prompt: 'Long [[mock lengthRounds=2]]', metadata: { tag: 'team-a' } });
    assert.equal(result.metadata.continuation?.attempts, 3);
    const price = PRICES.models['moonshot-v1-8k']!;
    const expected = (result.usage.promptTokens * price.input + result.usage.completionTokens * price.output) / 1e6;
    assert.equal(result.metadata.cost?.currency, 'USD');
    assert.ok(Math.abs((result.metadata.cost?.amount ?? 0) - expected) < 1e-9, `${result.metadata.cost?.amount} = ${expected}`);
    assert.equal(result.metadata.cost?.outputTokens, result.usage.completionTokens);
    const custom = await h.supervisor.chat({ provider: 'openai', model: 'custom-model', prompt: 'Custom price' });
    assert.equal(custom.metadata.cost?.amount, (custom.usage.promptTokens * 1 + custom.usage.completionTokens * 2) / 1e6);
    const unpriced = await h.supervisor.chat({ provider: 'openai', model: 'no-such-model', prompt: 'No price' });
    assert.equal(unpriced.metadata.cost, undefined);
    const { cost } = h.supervisor.stats();
    assert.equal(cost.priced, 2);
    assert.equal(cost.unpriced, 1);
    assert.ok(Math.abs((cost.byTag['team-a']?.['USD'] ?? 0) - expected) < 1e-9);
    assert.ok(Math.abs((cost.total['USD'] ?? 0) - expected - (custom.metadata.cost?.amount ?? 0)) < 1e-9);
    assert.match(h.supervisor.metrics(), /sessionpool_cost_total\{provider="kimi",currency="USD"\} \d/);
  } finally {
    await h.close();
  }
});

test('a spent budget refuses the next session before any call: ERR_BUDGET_EXCEEDED, counted, nothing sent', async () => {
  const h = await harness({ supervisor: { budgets: { tags: { trial: { limit: 0.000001 } }, providers: { glm: { limit: 0 } } } } });
  try {
    await h.supervisor.chat({ provider: 'kimi', prompt: 'First', metadata: { tag: 'trial' } });
    const calls = h.mock.requests.length;
    const refused = await h.supervisor.chat({ provider: 'kimi', prompt: 'Second', metadata: { tag: 'trial' } }).catch((error: unknown) => error);
    assert.ok(refused instanceof BudgetExceededError);
    assert.equal(refused.code, 'ERR_BUDGET_EXCEEDED');
    assert.equal(refused.budget, 'tag:trial');
    const glm = await h.supervisor.chat({ provider: 'glm', prompt: 'No budget at all' }).catch((error: unknown) => error);
    assert.equal((glm as BudgetExceededError).budget, 'provider:glm');
    assert.equal(h.mock.requests.length, calls, 'no provider call was made');
    assert.equal(h.supervisor.stats().rejected.budget, 2);
    // Another tag, and no tag, still run.
    await h.supervisor.chat({ provider: 'kimi', prompt: 'Other', metadata: { tag: 'paid' } });
    await h.supervisor.chat({ provider: 'kimi', prompt: 'Untagged' });
  } finally {
    await h.close();
  }
});
