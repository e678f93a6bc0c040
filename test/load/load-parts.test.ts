// The load harness's parts on their own: histograms, arrivals, argument and prompt checks, outputs.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { arrivalSchedule } from '../../src/apps/load/arrivals.ts';
import { parseDuration, parseLoadArgs } from '../../src/apps/load/cli-options.ts';
import { Distribution } from '../../src/apps/load/distribution.ts';
import { LevelRecorder } from '../../src/apps/load/level.ts';
import { errorKey, type Sample } from '../../src/apps/load/measure.ts';
import { resolveLoadPlan } from '../../src/apps/load/plan.ts';
import { readPromptFile, syntheticPrompts } from '../../src/apps/load/prompts.ts';
import type { LoadResult } from '../../src/apps/load/run.ts';
import { checkTarget, mockBehaviour } from '../../src/apps/load/target.ts';
import { csv, jsonLines, textReport } from '../../src/apps/load/text.ts';
import { systemInfo } from '../../src/apps/report/system.ts';

const close = (a: number, b: number, tolerance: number) => Math.abs(a - b) <= tolerance * Math.abs(b);

test('Distribution: HDR percentiles within 0.1 %, max exact to the unit, CDF from 0 to 100 %', () => {
  const d = new Distribution();
  for (let i = 1; i <= 1000; i++) d.record(i);
  const q = d.quantiles()!;
  assert.equal(q.count, 1000);
  assert.ok(close(q.p50, 500, 0.002) && close(q.p90, 900, 0.002) && close(q.p99, 990, 0.002), JSON.stringify(q));
  assert.ok(close(q.max, 1000, 0.001));
  const cdf = d.cdf(10);
  assert.equal(cdf.length, 11);
  assert.equal(cdf.at(-1)![1], 100);
  assert.ok(cdf.every(([, p], i) => i === 0 || p > cdf[i - 1]![1]));
  const empty = new Distribution();
  assert.equal(empty.quantiles(), null);
  assert.ok(Number.isNaN(empty.percentile(50)));
  empty.record(Number.NaN);
  empty.record(-1);
  assert.equal(empty.count, 0);
});

test('arrivals: a seeded Poisson schedule, the same for the same seed, at the asked mean rate', () => {
  const a = arrivalSchedule(50, 20_000, 1);
  assert.deepEqual(arrivalSchedule(50, 100, 1), a.slice(0, 100));
  assert.notDeepEqual(arrivalSchedule(50, 100, 2), a.slice(0, 100));
  const rate = a.length / (a.at(-1)! / 1000);
  assert.ok(close(rate, 50, 0.03), `${rate}/s`);
  assert.ok(a.every((t, i) => i === 0 || t >= a[i - 1]!));
});

test('arguments: lists, rates, durations; mistakes are refused before anything starts', () => {
  const c = parseLoadArgs(['--concurrency', '1,10,50', '--requests', '200', '--stream']);
  assert.deepEqual(c.options, { concurrency: [1, 10, 50], requests: 200, stream: true });
  assert.deepEqual(c.prompts, { inputTokens: 128, outputTokens: 64 });
  assert.deepEqual(parseLoadArgs(['--rate', '2.5,5/s', '--duration', '2m']).options, { rate: [2.5, 5], durationMs: 120_000, stream: false });
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('90'), 90_000);
  const refused = (argv: string[], pattern: RegExp) =>
    assert.throws(
      () => parseLoadArgs(argv),
      (e: Error & { code?: string }) => pattern.test(e.message) && (e.code === 'ERR_INVALID_ARG_VALUE' || e.code?.startsWith('ERR_PARSE_ARGS') === true),
    );
  refused(['--concurrency', '0'], /--concurrency: expected whole numbers above 0/);
  refused(['--concurrency', '1.5'], /whole numbers/);
  refused(['--rate', 'fast'], /--rate/);
  refused(['--concurrency', '2', '--rate', '3'], /not both/);
  refused(['--requests', '5', '--duration', '5s'], /not both/);
  refused(['--duration', 'soon'], /--duration/);
  refused(['--dialect', 'claude'], /--dialect/);
  refused(['--frobnicate'], /frobnicate/);
});

test('targets: no key, an unknown provider or an unknown mock field is a usage mistake', () => {
  assert.throws(() => checkTarget({ provider: 'kimi' }, {}), /no API key for kimi: set MOONSHOT_API_KEY or KIMI_API_KEY/);
  assert.doesNotThrow(() => checkTarget({ provider: 'kimi' }, { KIMI_API_KEY: 'x' }));
  assert.throws(() => checkTarget({ provider: 'acme' }, {}), /unknown provider "acme".*--base-url/);
  assert.doesNotThrow(() => checkTarget({ provider: 'acme', baseURL: 'http://127.0.0.1:1/v1' }, {}));
  assert.throws(() => checkTarget({ provider: 'glm', mock: 'latencyMs=1' }, { GLM_API_KEY: 'x' }), /embedded mock/);
  assert.deepEqual(mockBehaviour('latencyMs=50 tokensPerSec=400 errorRate=0.1 status=429'), { latencyMs: 50, tokensPerSec: 400, errorRate: 0.1, status: 429 });
  assert.throws(() => mockBehaviour('latencyMs=50 ttft=3'), /"ttft" is not a mock field/);
  assert.throws(() => mockBehaviour('latencyMs=fast'), /"latencyMs"/);
  assert.throws(() => mockBehaviour('errorRate=2'), /from 0 to 1/);
});

test('plans: the whole option set is checked, every wrong field named', () => {
  const prompts = syntheticPrompts(4, 2);
  assert.throws(
    () => resolveLoadPlan({ provider: 'p', prompts, concurrency: [0], requests: -1, timeoutMs: 0 }),
    (e: Error & { code: string; issues: string[] }) => e.code === 'ERR_INVALID_REQUEST' && e.issues.length === 3,
  );
  assert.throws(() => resolveLoadPlan({ provider: 'p', prompts: [] }), /prompts/);
  const plan = resolveLoadPlan({ provider: 'p', prompts, rate: [3] });
  assert.equal(plan.mode, 'open');
  assert.deepEqual(plan.budget, { requests: 100 });
});

test('prompts: synthetic ones have the asked length; a JSONL file is checked line by line', async () => {
  const [first] = syntheticPrompts(50, 20);
  assert.equal((first!.messages[0]!.content as string).split(' ').length, 50);
  assert.equal(first!.maxOutputTokens, 20);
  const dir = await mkdtemp(join(tmpdir(), 'load-prompts-'));
  const good = join(dir, 'good.jsonl');
  await writeFile(good, '{"prompt":"hello","system":"be brief"}\n\n{"messages":[{"role":"user","content":"hi"}],"maxOutputTokens":5}\n');
  const prompts = await readPromptFile(good, 99);
  assert.deepEqual(prompts, [
    {
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
      ],
      maxOutputTokens: 99,
    },
    { messages: [{ role: 'user', content: 'hi' }], maxOutputTokens: 5 },
  ]);
  const bad = join(dir, 'bad.jsonl');
  await writeFile(bad, '{"prompt":"ok"}\n{"prompt": 3}\n');
  await assert.rejects(readPromptFile(bad), (e: Error & { code: string }) => e.code === 'ERR_INVALID_REQUEST' && /bad\.jsonl:2/.test(e.message));
  await writeFile(bad, '{"messages":[{"role":"user","content":5}]}\n');
  await assert.rejects(readPromptFile(bad), /bad\.jsonl:1: expected/, "checked with the engine's message schema");
  await writeFile(bad, 'not json\n');
  await assert.rejects(readPromptFile(bad), /bad\.jsonl:1: invalid JSON at line 1, column 1/, 'told by line and column, not quoted');
  await assert.rejects(readPromptFile(join(dir, 'missing.jsonl')), /cannot read/);
});

const sample = (over: Partial<Sample>): Sample => ({
  startMs: 0,
  e2eMs: 100,
  ok: true,
  outputTokens: 10,
  inputTokens: 5,
  estimated: false,
  attempts: 1,
  continuationRounds: 0,
  ...over,
});

test('outputs: the table, JSON lines and CSV carry the same level, failures by key, estimates marked', () => {
  const recorder = new LevelRecorder(0, 10, 'c=10', 0);
  recorder.issued = 4;
  recorder.add(sample({ ttftMs: 20, itlMs: 5, cost: { amount: 0.000021, currency: 'USD' } }));
  recorder.add(sample({ ttftMs: 30, itlMs: 6, estimated: true, cost: { amount: 0.000013, currency: 'USD' } }));
  recorder.add(sample({ ok: false, error: 'ERR_PROVIDER 429 rate_limit_reached_error' }));
  recorder.add(sample({ ok: false, cancelled: true }));
  recorder.retry({
    sessionId: 's',
    requestId: 'load-0-1',
    attempt: 2,
    delayMs: 1,
    at: 0,
    error: { code: 'ERR_PROVIDER', message: 'x', status: 503, providerCode: 'server_error' },
  });
  const report = recorder.finish('closed', 1000, { cpuMsPerRequest: 0.5, eventLoopUtilization: 0.1 }, false);
  assert.deepEqual(report.requests, { issued: 4, ok: 2, failed: 1, cancelled: 1 });
  assert.deepEqual(report.errors, { 'ERR_PROVIDER 429 rate_limit_reached_error': 1 });
  assert.deepEqual(report.retriedErrors, { 'ERR_PROVIDER 503 server_error': 1 });
  assert.equal(report.e2eMs?.count, 2, 'failures are not latencies');
  const plan = resolveLoadPlan({ provider: 'p', prompts: syntheticPrompts(2, 2), concurrency: [10], stream: true });
  const result: LoadResult = {
    plan,
    levels: [report],
    curves: [recorder.curves()],
    timeline: [],
    levelStartsMs: [0],
    interrupted: false,
    system: systemInfo(2),
    startedAt: 'now',
  };
  const text = textReport(result);
  assert.match(text, /^c=10 +4 +2 +1 +2\.00 +~20\.0/m);
  assert.match(text, /c=10: 1 failed with ERR_PROVIDER 429 rate_limit_reached_error \(25\.0% of requests\)/);
  assert.match(text, /1 calls retried after ERR_PROVIDER 503 server_error/);
  assert.match(text, /~ token counts estimated/);
  assert.match(text, /c=10: cost 0\.000034 USD \(0\.000017 USD a request\)/);
  const [level, summary] = jsonLines(result).map((l) => JSON.parse(l));
  assert.deepEqual(level.cost, { USD: 0.000034 }, 'costs keep their digits in the JSON lines');
  assert.equal(level.type, 'level');
  assert.equal(level.ttftMs.count, 2);
  assert.equal(summary.type, 'summary');
  const [head, row] = csv(result).trim().split('\n');
  assert.equal(head!.split(',').length, row!.split(',').length);
  assert.match(row!, /^closed,10,4,2,1,1,/);
  assert.equal(errorKey({ code: 'ERR_PROVIDER', status: 429, providerCode: '1302' }), 'ERR_PROVIDER 429 1302');
  assert.equal(errorKey(new Error('plain')), 'ERR_UNKNOWN');
});
