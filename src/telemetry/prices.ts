// The shipped price table. Figures are the providers' list prices for their international
// platforms, per million tokens, in US dollars, as of the date below (taken from the pages named in
// `source`, not fetched at run time); they change, so a supervisor can override any of them
// (`prices`), and the table says where they came from and for when.
import type { PriceTable } from '../types/cost.ts';

const usd = (provider: string, input: number, cachedInput: number, output: number) => ({ provider, input, cachedInput, output, currency: 'USD' });

/**
 * The prices sessionpool ships (Kimi, GLM and OpenAI models): per million input, cached input and
 * output tokens, with their `source` pages and the `date` they were read. A model missing here
 * has no cost (`result.metadata.cost` absent, counted as `unpriced`) unless `prices` names it.
 *
 * @example
 * ```ts
 * import { PRICES } from 'sessionpool';
 *
 * console.log(PRICES.date, PRICES.models['gpt-4o-mini']); // … { provider: 'openai', input: 0.15, cachedInput: 0.075, output: 0.6, currency: 'USD' }
 * ```
 */
export const PRICES: PriceTable = {
  source: ['https://platform.moonshot.ai/docs/pricing/chat', 'https://docs.z.ai/guides/overview/pricing', 'https://openai.com/api/pricing/'],
  date: '2025-10-01',
  models: {
    // Moonshot (Kimi): cached input is a context-cache hit.
    'kimi-k2-0905-preview': usd('kimi', 0.6, 0.15, 2.5),
    'kimi-k2-0711-preview': usd('kimi', 0.6, 0.15, 2.5),
    'kimi-k2-turbo-preview': usd('kimi', 2.4, 0.6, 10),
    'kimi-latest': usd('kimi', 2, 0.15, 5),
    'moonshot-v1-8k': usd('kimi', 0.2, 0.2, 2),
    'moonshot-v1-32k': usd('kimi', 1, 1, 3),
    'moonshot-v1-128k': usd('kimi', 2, 2, 5),
    // Zhipu (GLM, Z.ai): the Flash models are free.
    'glm-4.6': usd('glm', 0.6, 0.11, 2.2),
    'glm-4.5': usd('glm', 0.6, 0.11, 2.2),
    'glm-4.5-air': usd('glm', 0.2, 0.03, 1.1),
    'glm-4.5-x': usd('glm', 2.2, 0.45, 8.9),
    'glm-4.5-flash': usd('glm', 0, 0, 0),
    'glm-4-32b-0414-128k': usd('glm', 0.1, 0.1, 0.1),
    // OpenAI.
    'gpt-4o-mini': usd('openai', 0.15, 0.075, 0.6),
    'gpt-4o': usd('openai', 2.5, 1.25, 10),
    'gpt-4.1': usd('openai', 2, 0.5, 8),
    'gpt-4.1-mini': usd('openai', 0.4, 0.1, 1.6),
    'gpt-4.1-nano': usd('openai', 0.1, 0.025, 0.4),
    'gpt-5': usd('openai', 1.25, 0.125, 10),
    'gpt-5-mini': usd('openai', 0.25, 0.025, 2),
    'gpt-5-nano': usd('openai', 0.05, 0.005, 0.4),
    'o4-mini': usd('openai', 1.1, 0.275, 4.4),
  },
};
