// What a session cost: its usage (continuation rounds already summed by the worker) at its model's
// price. A pure function over a price map; the supervisor keeps the map (shipped table + overrides).
import type { ModelPrice, SessionCost } from '../types/cost.ts';
import type { Usage } from '../types/chat.ts';
import { PRICES } from './prices.ts';

export type PriceMap = ReadonlyMap<string, ModelPrice>;

/** The shipped table with a supervisor's `prices` over it (`false`: no prices at all). */
export function priceMap(overrides: Record<string, ModelPrice> | false | undefined): PriceMap {
  if (overrides === false) return new Map();
  return new Map<string, ModelPrice>([...Object.entries(PRICES.models), ...Object.entries(overrides ?? {})]);
}

/** The cost of `usage` on the first of `models` that has a price; undefined when none has. */
export function costOf(prices: PriceMap, usage: Usage, ...models: (string | undefined)[]): SessionCost | undefined {
  for (const model of models) {
    const price = model === undefined ? undefined : prices.get(model);
    if (price === undefined || model === undefined) continue;
    const cached = Math.min(usage.cachedTokens ?? 0, usage.promptTokens);
    const input = usage.promptTokens - cached;
    const perToken = (perMillion: number) => perMillion / 1_000_000;
    const amount = input * perToken(price.input) + cached * perToken(price.cachedInput ?? price.input) + usage.completionTokens * perToken(price.output);
    // Rounded to a millionth of the currency's unit: float sums of tiny prices otherwise print noise.
    return { amount: round(amount), currency: price.currency, model, inputTokens: input, cachedInputTokens: cached, outputTokens: usage.completionTokens };
  }
  return undefined;
}

export function round(amount: number): number {
  return Math.round(amount * 1e9) / 1e9;
}
