// The `routing` supervisor option and the routing parts of `providers.<name>` (limits,
// fallbacks), validated with the other options and resolved into what the router needs.
import { z } from 'zod';
import { InvalidRequestError } from '../errors/errors.ts';
import { describeValue } from '../util/validation.ts';
import { DEFAULT_BREAKER } from './breaker.ts';
import type { AimdSettings, BreakerSettings, LimitPreset, LimitsConfig, LimiterStore } from '../types/options.ts';
import { DEFAULT_AIMD, limitsAnything, resolveLimits } from './limits.ts';
import type { RoutingSettings } from './router.ts';
import type { FallbackTarget } from '../types/route.ts';

const fraction = z.number().gt(0).max(1);

const routingObject = z.strictObject({
  breaker: z
    .union([
      z.boolean(),
      z.strictObject({
        failures: z.number().int().min(1).max(10_000).optional(),
        errorRate: fraction.optional(),
        windowMs: z.number().int().min(10).max(3_600_000).optional(),
        minRequests: z.number().int().min(1).max(1_000_000).optional(),
        cooldownMs: z.number().int().min(0).max(3_600_000).optional(),
      }),
    ])
    .optional(),
  aimd: z.strictObject({ decrease: fraction.optional(), increase: z.number().min(0).max(1).optional(), floor: fraction.optional() }).optional(),
  defaultOutputTokens: z.number().int().min(1).max(10_000_000).optional(),
  store: z
    .custom<LimiterStore>(
      (v) => typeof v === 'object' && v !== null && typeof (v as LimiterStore).update === 'function',
      'expected a LimiterStore (an object with update())',
    )
    .optional(),
});

/** `routing: false` turns off what is on by default (learned limits, shared back-off, the breaker). */
export const routingSchema = z.union([z.literal(false), routingObject]);

interface ProviderRouting {
  limits?: LimitsConfig | LimitPreset | undefined;
  fallbacks?: FallbackTarget[] | undefined;
  routing?: boolean | undefined;
}

/** On by default; `routing: false` or `breaker: false` turns it off. */
function breakerOf(given: z.output<typeof routingSchema> | undefined): BreakerSettings | undefined {
  if (given === false || given?.breaker === false) return undefined;
  if (given?.breaker === undefined || given.breaker === true) return DEFAULT_BREAKER;
  return { ...DEFAULT_BREAKER, ...given.breaker };
}

function invalid(issue: string): never {
  throw new InvalidRequestError(`Invalid supervisor options: ${issue}`, [issue]);
}

export function resolveRouting(
  given: z.output<typeof routingSchema> | undefined,
  providers: Record<string, ProviderRouting>,
  known: Map<string, unknown>,
): RoutingSettings {
  const options = given === false ? undefined : given;
  const aimd: AimdSettings = { ...DEFAULT_AIMD, ...options?.aimd };
  const limits = new Map<string, ReturnType<typeof resolveLimits>>();
  const fallbacks = new Map<string, FallbackTarget[]>();
  for (const [name, config] of Object.entries(providers)) {
    if (config.limits !== undefined) {
      const resolved = resolveLimits(config.limits, aimd);
      if (limitsAnything(resolved)) limits.set(name, resolved);
    }
    for (const [i, target] of (config.fallbacks ?? []).entries()) {
      if (!known.has(target.provider)) {
        invalid(
          `\`providers.${name}.fallbacks[${i}].provider\`: expected one of ${[...known.keys()].map((p) => `"${p}"`).join('|')}, got ${describeValue(target.provider)}`,
        );
      }
    }
    if (config.fallbacks !== undefined && config.fallbacks.length > 0) fallbacks.set(name, config.fallbacks);
  }
  const unprotected = new Set(Object.entries(providers).flatMap(([name, config]) => (config.routing === false ? [name] : [])));
  return {
    limits,
    fallbacks,
    breaker: breakerOf(given),
    adaptive: given !== false,
    unprotected,
    defaultOutputTokens: options?.defaultOutputTokens ?? 1024,
    ...(options?.store !== undefined ? { store: options.store } : {}),
  };
}
