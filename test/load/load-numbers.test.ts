// The load harness's numbers against the mock with programmed behaviour: latencies are bounded
// below by what the mock was told to wait, token counts are exact, a 10 % error pattern shows as
// 10 %, and the open loop issues on its schedule whatever the latency. Only lower bounds on time
// (and one upper bound with seconds of slack); no duration is asserted otherwise.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startMockProvider } from '../../src/index.ts';
import { arrivalSchedule } from '../../src/apps/load/arrivals.ts';
import type { Sample } from '../../src/apps/load/measure.ts';
import { syntheticPrompts } from '../../src/apps/load/prompts.ts';
import { runLoad, type LoadHooks } from '../../src/apps/load/run.ts';
import type { LoadOptions } from '../../src/apps/load/plan.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';

let mock: MockProvider;
before(async () => {
  mock = await startMockProvider();
});
after(() => mock.close());

function options(extra: Partial<LoadOptions>): LoadOptions {
  return {
    provider: 'mock',
    providerConfig: { baseURL: mock.baseURL('openai'), apiKey: 'sk-load-test', dialect: 'openai' },
    prompts: syntheticPrompts(12, 8),
    threads: 2,
    ...extra,
  };
}

/** Runs and keeps every sample. */
async function run(extra: Partial<LoadOptions>, hooks: LoadHooks = {}) {
  const samples: Sample[] = [];
  const result = await runLoad(options(extra), {
    ...hooks,
    onSample: (recorder, sample) => {
      samples.push(sample);
      hooks.onSample?.(recorder, sample);
    },
  });
  return { result, samples };
}

describe('streamed latencies and counts', () => {
  const D = 60;
  const I = 20;
  const K = 11;

  test(`a mock that waits ${D} ms, then sends ${K} chunks ${I} ms apart: TTFT ≥ D, ITL ≥ I, exactly K tokens`, async () => {
    const { result, samples } = await run({
      concurrency: [3],
      requests: 12,
      stream: true,
      mock: { latencyMs: D, chunkDelayMs: I, chunks: K, completionTokens: K },
    });
    const [level] = result.levels;
    assert.ok(level);
    assert.deepEqual(level.requests, { issued: 12, ok: 12, failed: 0, cancelled: 0 });
    assert.equal(samples.length, 12);
    for (const s of samples) {
      assert.equal(s.outputTokens, K, 'token count from the usage the stream carried');
      assert.equal(s.estimated, false);
      assert.ok(s.ttftMs! >= D, `ttft ${s.ttftMs} ≥ ${D}`);
      // Causal: the last chunk leaves the mock K intervals after the role chunk, itself D after the request.
      assert.ok(s.ttftMs! + s.itlMs! * (K - 1) >= D + (K - 1) * I, 'last token not before D + (K−1)·I');
      assert.ok(s.e2eMs >= s.ttftMs!);
    }
    assert.equal(level.tokens.output, 12 * K);
    assert.equal(level.tokens.estimatedRequests, 0);
    assert.ok(level.ttftMs!.p50 >= D && level.ttftMs!.max >= level.ttftMs!.p99);
    // Each sample is held to causality above; a sample whose first token was read late has a mean
    // interval under I (the rest caught up), so the median is held to I within a tenth.
    assert.ok(level.itlMs!.p50 >= I * 0.9, `itl p50 ${level.itlMs!.p50} ≥ ${I * 0.9}`);
    assert.equal(level.itlMs!.count, 12);
    assert.ok(level.outputTokensPerSec > 0 && level.requestsPerSec > 0);
    assert.ok(level.host.cpuMsPerRequest > 0 && level.host.eventLoopUtilization > 0);
  });

  test('without a stream there is no TTFT or ITL, and e2e ≥ the mock latency; warm-up requests are not measured', async () => {
    const before = mock.totalRequests;
    const { result } = await run({ concurrency: [2], requests: 6, warmup: 3, mock: { latencyMs: D, completionTokens: K } });
    assert.equal(mock.totalRequests - before, 3 + 6);
    assert.equal(result.levels[0]?.requests.issued, 6);
    const [level] = result.levels;
    assert.equal(level?.ttftMs, null);
    assert.equal(level?.itlMs, null);
    assert.ok(level!.e2eMs!.p50 >= D);
    assert.equal(level?.tokens.output, 6 * K);
  });

  test('continuation rounds are counted, and their tokens summed', async () => {
    const { result } = await run({ concurrency: [2], requests: 4, stream: true, maxRounds: 3, mock: { completionTokens: 5, lengthRounds: 2 } });
    assert.equal(result.levels[0]?.continuationRounds, 4 * 2);
    assert.equal(result.levels[0]?.tokens.output, 4 * 15);
  });
});

test('a provider that sends no usage: token counts estimated (≈4 characters a token) and marked so', async () => {
  // A real server of one's own that streams answers without any usage chunk.
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.end(`${chunk({ content: 'abcdefgh' }) + chunk({ content: 'ijklmnop' }) + chunk({}, 'stop')}data: [DONE]\n\n`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const { result, samples } = await run({
      concurrency: [1],
      requests: 2,
      stream: true,
      providerConfig: { baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'none', dialect: 'openai' },
    });
    assert.ok(samples.every((s) => s.estimated && s.outputTokens === 4));
    assert.equal(result.levels[0]?.tokens.estimatedRequests, 2);
    assert.equal(result.levels[0]?.tokens.output, 8);
  } finally {
    server.close();
  }
});

describe('errors', () => {
  test('a mock failing 10 % of requests with 429 (every 10th) shows 10 % failed, by code, status and provider code', async () => {
    const { result } = await run({ concurrency: [1, 4], requests: 50, retries: 0, mock: { errorRate: 0.1, status: 429 } });
    for (const level of result.levels) {
      assert.equal(level.requests.issued, 50);
      assert.equal(level.requests.failed, 5, `${level.label}: 5 of 50`);
      assert.equal(level.requests.ok, 45);
      assert.deepEqual(Object.values(level.errors), [5]);
      assert.match(Object.keys(level.errors)[0]!, /^ERR_PROVIDER 429 rate_limit_reached_error$/);
      assert.equal(level.retries, 0);
    }
  });

  test('with retries, every failed call is retried and counted; the calls still fail at 10 %', async () => {
    mock.reset();
    const { result } = await run({ concurrency: [10], requests: 40, retries: 2, mock: { errorRate: 0.1, status: 503 } });
    const [level] = result.levels;
    assert.ok(level);
    const calls = mock.totalRequests;
    const retried = Object.values(level.retriedErrors).reduce((a, b) => a + b, 0);
    assert.equal(retried, level.retries);
    assert.equal(calls, 40 + level.retries, 'one call per request plus one per retry');
    // Every failing call was either retried or ended its request.
    assert.equal(level.retries + level.requests.failed, Math.floor(calls / 10));
    assert.ok(level.retries >= 4);
    assert.match(Object.keys(level.retriedErrors)[0]!, /^ERR_PROVIDER 503/);
  });
});

describe('open loop', () => {
  test('requests are issued on the Poisson schedule whatever the latency: never early, all before any answer', async () => {
    mock.reset();
    const rate = 40;
    const count = 30;
    const seed = 7;
    const { result, samples } = await run({ rate: [rate], requests: count, seed, mock: { latencyMs: 5000 } });
    // The level's schedule: the run's seed plus the level's index.
    const schedule = arrivalSchedule(rate, count, seed + 0);
    const starts = samples.map((s) => s.startMs).sort((a, b) => a - b);
    assert.equal(starts.length, count);
    starts.forEach((at, k) => assert.ok(at >= schedule[k]!, `request ${k} issued at ${at} ≥ scheduled ${schedule[k]}`));
    // Not throttled by the 5 s latency: the last request left within seconds of its time, and the
    // mock had all of them before it answered the first.
    assert.ok(starts.at(-1)! <= schedule.at(-1)! + 4000, `last issued at ${starts.at(-1)}, scheduled ${schedule.at(-1)}`);
    const firstAnswer = Math.min(...mock.requests.map((r) => r.respondedAt ?? Infinity));
    assert.equal(mock.requests.filter((r) => r.receivedAt < firstAnswer).length, count);
    assert.equal(result.levels[0]?.requests.ok, count);
    assert.equal(result.levels[0]?.label, '40/s');
  });

  test('a timed open-loop level issues what is due within its duration, never more', async () => {
    const { result } = await run({ rate: [100], durationMs: 600, seed: 3, mock: { latencyMs: 5 } });
    const due = arrivalSchedule(100, 1000, 3).filter((at) => at < 600).length;
    const issued = result.levels[0]!.requests.issued;
    assert.ok(issued <= due, `${issued} ≤ ${due}`);
    assert.ok(issued >= due / 2, `${issued} ≥ ${due} / 2`);
  });
});

test('a stop ends the run at once: what ended before it is kept, the rest counted as cancelled, every session released', async () => {
  const stop = new AbortController();
  let seen = 0;
  const { result } = await run(
    { concurrency: [4, 8], requests: 10_000, mock: { latencyMs: 10 } },
    { signal: stop.signal, onSample: () => ++seen === 20 && stop.abort() },
  );
  assert.equal(result.interrupted, true);
  assert.equal(result.levels.length, 1, 'the second level never started');
  const [level] = result.levels;
  assert.equal(level?.interrupted, true);
  assert.ok(level!.requests.ok >= 19);
  assert.equal(level!.requests.failed, 0, 'aborted requests are not failures');
  assert.equal(level!.requests.ok + level!.requests.cancelled, level!.requests.issued);
  assert.ok(level!.requests.issued < 10_000);
});
