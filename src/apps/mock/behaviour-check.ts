// The numbers of a mock behaviour, checked where an operator writes them (`load --mock`,
// startMockProvider's defaults): a negative latency or a zero pace is a typo, not a behaviour, and
// the mock would otherwise quietly treat it as something else (a negative delay is no delay).
import type { MockBehaviour, MockProviderOptions } from './types.ts';

type Range = { min: number; max: number; whole: boolean; above?: boolean };

const DAY_MS = 86_400_000;
const ms: Range = { min: 0, max: DAY_MS, whole: false };
const count = (min: number): Range => ({ min, max: 1_000_000_000, whole: true });

const RANGES: Partial<Record<keyof MockBehaviour, Range>> = {
  latencyMs: ms,
  chunkDelayMs: ms,
  retryAfterMs: ms,
  dripMs: ms,
  completionTokens: count(0),
  lengthRounds: count(0),
  failTimes: count(0),
  hangAfterChunks: count(0),
  streamErrorAfter: count(0),
  chunks: count(1),
  dripBytes: count(1),
  tokensPerSec: { min: 0, max: 1_000_000_000, whole: false, above: true },
  errorRate: { min: 0, max: 1, whole: false },
  status: { min: 100, max: 599, whole: true },
};

function expected(r: Range): string {
  const from = r.above ? `above ${r.min}` : `from ${r.min}`;
  return `${r.whole ? 'a whole number' : 'a number'} ${from} to ${r.max}`;
}

/** What is wrong with the numbers of `behaviour`, one `field: expected ..., got ...` each. */
export function behaviourIssues(behaviour: MockBehaviour): string[] {
  const issues: string[] = [];
  for (const [field, range] of Object.entries(RANGES) as Array<[keyof MockBehaviour, Range]>) {
    const value = behaviour[field];
    if (value === undefined) continue;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (range.above ? value > range.min : value >= range.min) &&
      value <= range.max &&
      (!range.whole || Number.isInteger(value));
    if (!ok) issues.push(`${field}: expected ${expected(range)}, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return issues;
}

/** What is wrong with startMockProvider's options, as `\`field\`: expected ..., got ...` (none when they are fine). */
export function mockOptionsIssues(options: MockProviderOptions): string[] {
  const issues = behaviourIssues(options.defaults ?? {}).map((issue) => `\`defaults.${issue.replace(': ', '`: ')}`);
  if (options.latencyMs !== undefined) issues.push(...behaviourIssues({ latencyMs: options.latencyMs }).map((issue) => `\`${issue.replace(': ', '`: ')}`));
  const records = options.maxRecords;
  if (records !== undefined && !(Number.isInteger(records) && records >= 1)) issues.push(`\`maxRecords\`: expected a whole number from 1 up, got ${records}`);
  // An empty key matches no bearer: every request would get 401.
  if (options.apiKey !== undefined && options.apiKey.trim() === '') issues.push('`apiKey`: expected a key, got an empty string');
  return issues;
}
