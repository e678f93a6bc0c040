// The run's figures as text: the table printed at the end, one JSON line per level, CSV rows.
import { fmt } from '../report/format.ts';
import type { Quantiles } from './distribution.ts';
import type { LevelReport } from './level.ts';
import type { LoadResult } from './run.ts';

/** Columns padded to their widest cell; the first left-aligned, the others right-aligned. */
function align(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const pct = (x: number) => `${fmt(x * 100)}%`;
const tok = (r: LevelReport, text: string) => (r.tokens.estimatedRequests > 0 ? `~${text}` : text);

function levelRow(r: LevelReport): string[] {
  const { requests: q } = r;
  return [
    r.label + (r.interrupted ? '*' : ''),
    String(q.issued),
    String(q.ok),
    String(q.failed),
    fmt(r.requestsPerSec),
    tok(r, fmt(r.outputTokensPerSec)),
    tok(r, fmt(r.outputTokensPerSecPerRequest?.p50 ?? Number.NaN)),
    String(r.retries),
    String(r.continuationRounds),
    fmt(r.host.cpuMsPerRequest),
    pct(r.host.eventLoopUtilization),
  ];
}

const LEVEL_HEAD = ['level', 'issued', 'ok', 'failed', 'req/s', 'out tok/s', 'tok/s/req p50', 'retries', 'rounds', 'host cpu ms/req', 'host elu'];
const QUANTILES = ['p50', 'p90', 'p95', 'p99', 'max'] as const;

function latencyRows(r: LevelReport): string[][] {
  const rows: string[][] = [];
  const add = (name: string, q: Quantiles | null) => {
    if (q !== null) rows.push([`${rows.length === 0 ? r.label : ''.padEnd(r.label.length)} ${name}`, ...QUANTILES.map((k) => fmt(q[k])), String(q.count)]);
  };
  add('ttft', r.ttftMs);
  add('itl', r.itlMs);
  add('e2e', r.e2eMs);
  return rows;
}

/** The closing table: a row per level, latency quantiles per level, then failures and notes. */
export function textReport(result: LoadResult): string {
  const levels = result.levels;
  const parts = [align([LEVEL_HEAD, ...levels.map(levelRow)])];
  parts.push(align([['latency ms', ...QUANTILES, 'n'], ...levels.flatMap(latencyRows)]));
  const failures = levels.flatMap((r) => [
    ...Object.entries(r.errors).map(([key, n]) => `${r.label}: ${n} failed with ${key} (${pct(n / Math.max(1, r.requests.issued))} of requests)`),
    ...Object.entries(r.retriedErrors).map(([key, n]) => `${r.label}: ${n} calls retried after ${key}`),
  ]);
  if (failures.length > 0) parts.push(failures.join('\n'));
  const costs = levels
    .filter((r) => Object.keys(r.cost ?? {}).length > 0)
    .map((r) => `${r.label}: cost ${formatCost(r.cost)} (${formatCost(perRequest(r))} a request)`);
  if (costs.length > 0)
    parts.push([...costs, "cost: usage at list prices (PRICES, or the supervisor's `prices`); models without a price count nothing"].join('\n'));
  const notes = [
    'ttft: call to first text; itl: (last text − first text) ÷ (output tokens − 1); e2e: call to result (successes only); ' +
      "tok/s/req: output tokens ÷ e2e; out tok/s and req/s: all ok requests ÷ the level's wall time; host: the main thread of this process",
  ];
  if (levels.some((r) => r.tokens.estimatedRequests > 0))
    notes.push('~ token counts estimated (≈4 characters a token) for requests whose provider sent no usage');
  if (result.interrupted) notes.push('* stopped during this level: figures cover the requests that ended before the stop');
  parts.push(notes.join('\n'));
  return parts.join('\n\n');
}

const formatCost = (cost: Record<string, number>) =>
  Object.entries(cost)
    .map(([currency, amount]) => `${amount >= 1 ? amount.toFixed(2) : Number(amount.toPrecision(3))} ${currency}`)
    .join(' + ');
const perRequest = (r: LevelReport) => Object.fromEntries(Object.entries(r.cost).map(([currency, amount]) => [currency, amount / Math.max(1, r.requests.ok)]));

const roundCost = (cost: Record<string, number>) =>
  Object.fromEntries(Object.entries(cost).map(([currency, amount]) => [currency, Math.round(amount * 1e9) / 1e9]));
const round3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

function roundDeep(value: unknown): unknown {
  if (typeof value === 'number') return round3(value);
  if (Array.isArray(value)) return value.map(roundDeep);
  // Costs are fractions of a cent: kept to a billionth, not a thousandth.
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'cost' ? roundCost(v as Record<string, number>) : roundDeep(v)]));
  return value;
}

/** One JSON line per level (`"type":"level"`), then a summary line. */
export function jsonLines(result: LoadResult): string[] {
  const { plan } = result;
  const summary = {
    type: 'summary',
    provider: plan.provider,
    model: plan.model ?? null,
    mode: plan.mode,
    stream: plan.stream,
    budget: plan.budget,
    interrupted: result.interrupted,
    system: result.system,
    startedAt: result.startedAt,
  };
  return [...result.levels.map((r) => JSON.stringify(roundDeep({ type: 'level', ...r }))), JSON.stringify(roundDeep(summary))];
}

const CSV_QUANTILES = ['p50', 'p90', 'p95', 'p99', 'max'] as const;
const quantileHeads = (name: string) => CSV_QUANTILES.map((k) => `${name}_${k}`);
const CSV_HEAD = [
  'mode',
  'level',
  'issued',
  'ok',
  'failed',
  'cancelled',
  'requests_per_sec',
  'output_tokens_per_sec',
  ...quantileHeads('ttft_ms'),
  ...quantileHeads('itl_ms'),
  ...quantileHeads('e2e_ms'),
  ...quantileHeads('tokens_per_sec_per_request'),
  'retries',
  'continuation_rounds',
  'input_tokens',
  'output_tokens',
  'estimated_requests',
  'cost',
  'host_cpu_ms_per_request',
  'host_elu',
  'wall_ms',
  'interrupted',
  'errors',
];

/** RFC 4180: quoted when it holds a comma, a quote or a line break. */
const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function csv(result: LoadResult): string {
  const q = (x: Quantiles | null) => CSV_QUANTILES.map((k) => (x === null ? null : round3(x[k])));
  const rows = result.levels.map((r) => [
    r.mode,
    r.level,
    r.requests.issued,
    r.requests.ok,
    r.requests.failed,
    r.requests.cancelled,
    round3(r.requestsPerSec),
    round3(r.outputTokensPerSec),
    ...q(r.ttftMs),
    ...q(r.itlMs),
    ...q(r.e2eMs),
    ...q(r.outputTokensPerSecPerRequest),
    r.retries,
    r.continuationRounds,
    r.tokens.input,
    r.tokens.output,
    r.tokens.estimatedRequests,
    formatCost(r.cost ?? {}),
    round3(r.host.cpuMsPerRequest),
    round3(r.host.eventLoopUtilization),
    round3(r.wallMs),
    r.interrupted,
    Object.entries(r.errors)
      .map(([k, n]) => `${k}=${n}`)
      .join('; '),
  ]);
  return `${[CSV_HEAD, ...rows].map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
}
