// Hostile `prices`, `budgets` and `telemetry` options are refused with ERR_INVALID_REQUEST before
// anything starts; provider names with quotes, newlines and braces keep the Prometheus output parseable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSupervisor, type SupervisorOptions } from '../../src/index.ts';
import { harness } from '../support/helpers.ts';

const price = { input: 1, output: 1, currency: 'USD' };

test('prices, budgets and telemetry that are not what they say are refused before anything starts', () => {
  const bad: [string, unknown][] = [
    ['negative price', { prices: { m: { ...price, input: -1 } } }],
    ['NaN price', { prices: { m: { ...price, output: Number.NaN } } }],
    ['Infinity price', { prices: { m: { ...price, input: Number.POSITIVE_INFINITY } } }],
    ['huge price', { prices: { m: { ...price, output: 1e300 } } }],
    ['string price', { prices: { m: { ...price, input: '1' } } }],
    ['currency with a newline', { prices: { m: { ...price, currency: 'US\nD' } } }],
    ['currency with a quote', { prices: { m: { ...price, currency: 'U"D' } } }],
    ['unknown price field', { prices: { m: { ...price, extra: 1 } } }],
    ['empty model', { prices: { '': price } }],
    ['prices true', { prices: true }],
    ['negative budget', { budgets: { tags: { t: { limit: -1 } } } }],
    ['NaN budget', { budgets: { providers: { kimi: { limit: Number.NaN } } } }],
    ['Infinity budget', { budgets: { providers: { kimi: { limit: Number.POSITIVE_INFINITY } } } }],
    ['string budget', { budgets: { tags: { t: { limit: '5' } } } }],
    ['budget currency', { budgets: { tags: { t: { limit: 1, currency: 'dollars' } } } }],
    ['unknown budget kind', { budgets: { models: {} } }],
    ['telemetry string', { telemetry: 'yes' }],
    ['telemetry null', { telemetry: null }],
    ['telemetry recordContent string', { telemetry: { recordContent: 'true' } }],
    ['telemetry unknown field', { telemetry: { exporter: 'x' } }],
  ];
  for (const [what, options] of bad)
    assert.throws(
      () => createSupervisor({ threads: 1, logger: false, ...(options as SupervisorOptions) }),
      (error: { code?: string }) => error.code === 'ERR_INVALID_REQUEST',
      what,
    );
});

test('provider names with quotes, backslashes, newlines and braces keep every Prometheus line well formed', async () => {
  const name = 'evil"} 1\nsessionpool_fake{x="1\\';
  const h = await harness({ supervisor: { providers: { [name]: { baseURL: 'http://127.0.0.1:1/v1', apiKey: 'sk-unused-0123', dialect: 'kimi' } } } });
  try {
    // The mock serves the kimi dialect; the evil provider shares its pricing model.
    const mock = h.mock.baseURL('kimi');
    await h.supervisor.close();
    const h2 = await harness({ supervisor: { providers: { [name]: { baseURL: mock, apiKey: 'sk-unused-0123', dialect: 'kimi' } } } });
    try {
      await h2.supervisor.chat({ provider: name, prompt: 'Hello', timeoutMs: 20_000 });
      const text = h2.supervisor.metrics();
      const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\\n])*",?)*\})? [^ ]+$/;
      for (const line of text.split('\n')) {
        if (line === '' || line.startsWith('# ')) continue;
        assert.match(line, sample, 'a well-formed sample line');
      }
      assert.ok(!text.split('\n').some((line) => line.startsWith('sessionpool_fake')), 'no injected family');
      assert.ok(text.includes('sessionpool_tokens_count{provider="evil\\"} 1\\nsessionpool_fake{x=\\"1\\\\",type="input"} 1'), 'the name, escaped');
    } finally {
      await h2.close();
    }
  } finally {
    await h.close();
  }
});
