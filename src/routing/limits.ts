// Rate limits as users write them (per provider, or a named preset) and as the limiter needs them
// (bucket sizes and refill rates), plus the token estimate a session is charged before it is sent.
import { z } from 'zod';
import type { ChatCall } from '../wire/protocol.ts';
import type { Cost, KeyLimits } from './budget.ts';
import type { AimdSettings, LimitPreset, LimitsConfig } from '../types/options.ts';

/**
 * Moonshot's published tiers (platform.moonshot.ai/docs/pricing/limits: concurrency, RPM, TPM by
 * cumulative recharge). Check your console: tiers change. Zhipu/Z.ai publish no such table (limits
 * are per model and account, 429 code 1302 for concurrency, 1303 for frequency), so GLM has no preset.
 */
export const LIMIT_PRESETS = {
  'kimi-tier0': { concurrency: 1, requestsPerMinute: 3, tokensPerMinute: 500_000 },
  'kimi-tier1': { concurrency: 50, requestsPerMinute: 200, tokensPerMinute: 2_000_000 },
  'kimi-tier2': { concurrency: 100, requestsPerMinute: 500, tokensPerMinute: 3_000_000 },
  'kimi-tier3': { concurrency: 200, requestsPerMinute: 5000, tokensPerMinute: 3_000_000 },
  'kimi-tier4': { concurrency: 400, requestsPerMinute: 5000, tokensPerMinute: 4_000_000 },
  'kimi-tier5': { concurrency: 1000, requestsPerMinute: 10_000, tokensPerMinute: 5_000_000 },
} as const satisfies Record<LimitPreset, LimitsConfig>;

const positive = z.number().positive().max(1e9);

export const limitsSchema = z.union([
  z.enum(Object.keys(LIMIT_PRESETS) as [LimitPreset, ...LimitPreset[]]),
  z
    .strictObject({
      requestsPerMinute: positive.optional(),
      requestsPerSecond: positive.optional(),
      tokensPerMinute: positive.optional(),
      concurrency: z.number().int().min(1).max(1_000_000).optional(),
      burst: z.number().int().min(1).max(1_000_000).optional(),
      headroom: z.number().min(0).max(0.9).optional(),
    })
    .refine((l) => l.requestsPerMinute === undefined || l.requestsPerSecond === undefined, 'expected requestsPerMinute or requestsPerSecond, not both'),
]);

export const DEFAULT_AIMD: AimdSettings = { decrease: 0.5, increase: 0.05, floor: 0.05 };

/**
 * The buckets for a limit of `limit` per `windowMs`: refilled so that no window of that length
 * ever holds more than the limit minus the headroom, burst included.
 */
function bucketFor(limit: number, windowMs: number, headroom: number, burst: number | undefined) {
  const allowed = limit * (1 - headroom);
  const size = Math.max(1, Math.min(burst ?? Math.floor(allowed * 0.05), allowed));
  return { burst: size, perMs: Math.max(allowed - size, allowed * 0.05) / windowMs };
}

export function resolveLimits(config: LimitsConfig | LimitPreset, aimd: AimdSettings = DEFAULT_AIMD): KeyLimits {
  const own: LimitsConfig = typeof config === 'string' ? LIMIT_PRESETS[config] : config;
  const headroom = own.headroom ?? 0.05;
  const limits: KeyLimits = { aimd };
  if (own.requestsPerSecond !== undefined) limits.requests = bucketFor(own.requestsPerSecond, 1000, headroom, own.burst);
  else if (own.requestsPerMinute !== undefined) limits.requests = bucketFor(own.requestsPerMinute, 60_000, headroom, own.burst);
  if (own.tokensPerMinute !== undefined) limits.tokens = bucketFor(own.tokensPerMinute, 60_000, headroom, undefined);
  if (own.concurrency !== undefined) limits.concurrency = own.concurrency;
  return limits;
}

/** True when the limits restrict anything. */
export function limitsAnything(limits: KeyLimits): boolean {
  return limits.requests !== undefined || limits.tokens !== undefined || limits.concurrency !== undefined;
}

/**
 * What a call is charged before it goes: its input estimated at 3 characters a token (JSON of the
 * messages and tools: cautious for English, closer for Chinese), plus the output it may produce.
 */
export function estimateCost(call: ChatCall, defaultOutputTokens: number): Cost {
  let chars = 0;
  for (const message of call.messages) chars += typeof message.content === 'string' ? message.content.length : JSON.stringify(message.content ?? '').length;
  if (call.tools !== undefined) chars += JSON.stringify(call.tools).length;
  return { requests: 1, tokens: Math.ceil(chars / 3) + (call.maxOutputTokens ?? defaultOutputTokens) };
}
