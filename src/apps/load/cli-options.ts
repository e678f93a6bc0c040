// `sessionpool load` arguments → what to load, how, and where the figures go. Every value is
// checked here, before a mock, a supervisor or a request exists.
import { parseArgs } from 'node:util';
import type { Dialect } from '../../api/public.ts';
import type { LoadOptions } from './plan.ts';
import { KEY_HELP, KEY_OPTIONS, keyFromFlags } from '../cli/key-flags.ts';
import { TargetError, type TargetInput } from './target.ts';

export const USAGE = `usage: sessionpool load [--provider kimi|glm|openai|NAME] [--base-url URL] [--model M] [--dialect kimi|glm|openai]
                        [--api-key-env NAME | --api-key-file FILE] [--max-error-rate R]
                        [--concurrency 1,10,50 | --rate 5,20/s] [--requests N | --duration 60s] [--stream]
                        [--prompts FILE.jsonl | --input-tokens N --output-tokens N] [--warmup N] [--timeout MS]
                        [--retries N] [--max-rounds N] [--threads N] [--seed N] [--mock "latencyMs=40 tokensPerSec=400"]
                        [--json] [--csv FILE] [--html FILE] [--inspect]

Loads a provider through the engine, level by level (a concurrency, or a request rate with Poisson
arrivals), and reports per level: requests ok and failed (by error code and provider code), TTFT,
inter-token latency and end-to-end latency (p50/p90/p95/p99/max), output tokens/s per request and in
all, requests/s, retries, continuation rounds, and what the host's main thread spent per request.

Without --provider and --base-url it loads the embedded mock provider (no key, no network); --mock
programs it with the fields of its [[mock ...]] directive, e.g. "latencyMs=200 tokensPerSec=50
errorRate=0.1 status=429" (errorRate fails every 10th request, not at random).
Keys: MOONSHOT_API_KEY or KIMI_API_KEY (kimi), ZHIPUAI_API_KEY, GLM_API_KEY or ZAI_API_KEY (glm),
OPENAI_API_KEY (openai, and any --base-url), or
${KEY_HELP}

  --concurrency L    closed loop: sessions in flight, one level per value (default 1,10,50)
  --rate R           open loop: requests per second, one level per value ("5", "5/s", "2,5,10/s")
  --requests N       requests per level (default 100); --duration 30s|500ms|2m: issue for that long
  --prompts FILE     JSONL: {"prompt": "...", "system"?: "...", "maxOutputTokens"?: N} or {"messages": [...]}
  --input-tokens N   synthetic prompts of N words (default 128, at most 200000) asking for --output-tokens N (default 64, sent as max_tokens)
  --warmup N         requests before the first level, not measured (default 0)
  --timeout MS       deadline of each request (default 60000)
  --retries N        retries of a failed provider call (default 2, the engine's)
  --max-rounds N     continuation on finish_reason "length": calls in all per request (default 1: off)
  --json             JSON lines on stdout (one per level, then a summary) instead of the table
  --csv FILE, --html FILE   also write the figures as CSV, or as a self-contained report with charts
  --inspect          serve the live view of the sessions while the run goes (its URL on stderr)
  --max-error-rate R the share of measured requests (0 to 1) that may fail before the run fails (default 0.5)
Exit codes: 0 the run met its criteria; 1 it did not (more than --max-error-rate of the requests
failed, or none succeeded) or could not run; 2 a usage mistake (nothing was started); 130 Ctrl-C,
which stops the run and still prints and writes what was measured.`;

const OPTIONS = {
  provider: { type: 'string' },
  'base-url': { type: 'string' },
  model: { type: 'string' },
  dialect: { type: 'string' },
  ...KEY_OPTIONS,
  'max-error-rate': { type: 'string' },
  concurrency: { type: 'string' },
  rate: { type: 'string' },
  requests: { type: 'string' },
  duration: { type: 'string' },
  stream: { type: 'boolean', default: false },
  prompts: { type: 'string' },
  'input-tokens': { type: 'string' },
  'output-tokens': { type: 'string' },
  warmup: { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  'max-rounds': { type: 'string' },
  threads: { type: 'string' },
  seed: { type: 'string' },
  mock: { type: 'string' },
  json: { type: 'boolean', default: false },
  csv: { type: 'string' },
  html: { type: 'string' },
  inspect: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export interface LoadCommand {
  help: boolean;
  target: TargetInput;
  /** Everything but the provider and the prompts, which need the target and the file. */
  options: Omit<LoadOptions, 'provider' | 'providerConfig' | 'prompts' | 'mock'>;
  prompts: { file: string; outputTokens?: number } | { inputTokens: number; outputTokens: number };
  json: boolean;
  /** The share of measured requests that may fail before the run fails (exit 1). */
  maxErrorRate: number;
  csv?: string;
  html?: string;
  inspect: boolean;
}

const fail = (message: string): never => {
  throw new TargetError(message);
};

function integer(name: string, raw: string | undefined, min: number, max?: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= min && (max === undefined || n <= max)) return n;
  return fail(`--${name}: expected a whole number from ${min} ${max === undefined ? 'up' : `to ${max}`}, got "${raw}"`);
}

/** The default of --max-error-rate: a run where more than half the requests failed measured mostly errors. */
export const DEFAULT_MAX_ERROR_RATE = 0.5;
/** Synthetic prompts are made of this many words at most (64 variants of them are held in memory). */
const MAX_INPUT_TOKENS = 200_000;

function errorRate(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_MAX_ERROR_RATE;
  const n = Number(raw);
  return raw.trim() !== '' && n >= 0 && n <= 1 ? n : fail(`--max-error-rate: expected a number from 0 to 1, got "${raw}"`);
}

function numberList(name: string, raw: string | undefined, whole: boolean): number[] | undefined {
  if (raw === undefined) return undefined;
  const values = raw
    .replace(/\/s$/, '')
    .split(',')
    .map((v) => Number(v.trim()));
  const ok = values.length > 0 && values.every((v) => Number.isFinite(v) && v > 0 && (!whole || Number.isInteger(v)));
  return ok ? values : fail(`--${name}: expected ${whole ? 'whole numbers' : 'numbers'} above 0 separated by commas, got "${raw}"`);
}

/** `60s`, `500ms`, `2m`, or a number of seconds. */
export function parseDuration(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!match) return fail(`--duration: expected e.g. 60s, 500ms or 2m, got "${raw}"`);
  const ms = Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000);
  return ms >= 1 ? Math.round(ms) : fail(`--duration: must be at least 1 ms, got "${raw}"`);
}

const DIALECTS: readonly Dialect[] = ['kimi', 'glm', 'openai'];

export function parseLoadArgs(argv: string[]): LoadCommand {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (v.dialect !== undefined && !DIALECTS.includes(v.dialect as Dialect)) fail(`--dialect: expected kimi, glm or openai, got "${v.dialect}"`);
  if (v.concurrency !== undefined && v.rate !== undefined) fail('give --concurrency or --rate, not both');
  if (v.requests !== undefined && v.duration !== undefined) fail('give --requests or --duration, not both');
  if (v.prompts !== undefined && v['input-tokens'] !== undefined) fail('give --prompts or --input-tokens, not both');
  const rate = numberList('rate', v.rate, false);
  const outputTokens = integer('output-tokens', v['output-tokens'], 1);
  const options: LoadCommand['options'] = {
    ...(rate ? { rate } : { concurrency: numberList('concurrency', v.concurrency, true) ?? [1, 10, 50] }),
    ...(v.duration !== undefined ? { durationMs: parseDuration(v.duration) } : { requests: integer('requests', v.requests, 1) ?? 100 }),
    stream: v.stream,
  };
  const set = <K extends keyof LoadCommand['options']>(key: K, value: LoadCommand['options'][K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('model', v.model);
  set('warmup', integer('warmup', v.warmup, 0));
  set('timeoutMs', integer('timeout', v.timeout, 1));
  set('retries', integer('retries', v.retries, 0));
  set('maxRounds', integer('max-rounds', v['max-rounds'], 1));
  set('threads', integer('threads', v.threads, 1));
  set('seed', integer('seed', v.seed, 0));
  const target: TargetInput = {};
  if (v.provider !== undefined) target.provider = v.provider;
  if (v['base-url'] !== undefined) target.baseURL = v['base-url'];
  const apiKey = keyFromFlags(v);
  if (apiKey !== undefined) target.apiKey = apiKey;
  if (v.dialect !== undefined) target.dialect = v.dialect as Dialect;
  if (v.mock !== undefined) target.mock = v.mock;
  const prompts: LoadCommand['prompts'] =
    v.prompts !== undefined
      ? { file: v.prompts, ...(outputTokens !== undefined ? { outputTokens } : {}) }
      : { inputTokens: integer('input-tokens', v['input-tokens'], 1, MAX_INPUT_TOKENS) ?? 128, outputTokens: outputTokens ?? 64 };
  const maxErrorRate = errorRate(v['max-error-rate']);
  return {
    help: v.help,
    target,
    options,
    prompts,
    json: v.json,
    maxErrorRate,
    ...(v.csv ? { csv: v.csv } : {}),
    ...(v.html ? { html: v.html } : {}),
    inspect: v.inspect,
  };
}
