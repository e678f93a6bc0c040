// The shipped price table. Figures are list prices for the providers' international platforms, per
// million tokens, in US dollars. They were checked on the `date` below, but not against the providers'
// live pages, which this build machine cannot reach. The sources were:
//   - Moonshot (kimi-k2*): its own pricing page as archived on 2026-03-26
//     (megalodon.jp/ref/2026-0326-0135-31/https://platform.moonshot.ai:443/docs/pricing/chat).
//   - moonshot-v1-*: a summary that quotes that page (agentsapis.com, 2026-02-02).
//   - Z.ai (GLM): model catalogues that quote Z.ai's page (Sim, 2026-11-20; Bifrost; the agentic
//     provider list). Z.ai's FAQ bills a cache hit at 1/5 of the input price; the catalogues list
//     GLM's cached input at 0.11 where that rule gives 0.12.
//   - OpenAI: summaries that quote openai.com/api/pricing (cloudprice.net and tokenmath, June 2026).
// Models with no source found were left out: they have no cost until `prices` names them.
// A supervisor overrides any figure with `prices`.
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
  // The day the figures were checked against the secondary sources named at the top of this file.
  date: '2026-12-07',
  models: {
    // Moonshot (Kimi): cached input is a context-cache hit.
    'kimi-k2-0905-preview': usd('kimi', 0.6, 0.15, 2.5),
    'kimi-k2-0711-preview': usd('kimi', 0.6, 0.15, 2.5),
    'kimi-k2.5': usd('kimi', 0.6, 0.1, 3),
    'moonshot-v1-8k': usd('kimi', 0.2, 0.2, 2),
    'moonshot-v1-32k': usd('kimi', 1, 1, 3),
    'moonshot-v1-128k': usd('kimi', 2, 2, 5),
    // Zhipu (GLM, Z.ai): the Flash models are free.
    'glm-4.6': usd('glm', 0.6, 0.11, 2.2),
    'glm-4.5': usd('glm', 0.6, 0.11, 2.2),
    'glm-4.5-air': usd('glm', 0.2, 0.03, 1.1),
    'glm-4.5-flash': usd('glm', 0, 0, 0),
    // OpenAI.
    'gpt-4o-mini': usd('openai', 0.15, 0.075, 0.6),
    'gpt-4o': usd('openai', 2.5, 1.25, 10),
    'gpt-4.1': usd('openai', 2, 0.5, 8),
    'gpt-4.1-mini': usd('openai', 0.4, 0.1, 1.6),
    'gpt-5': usd('openai', 1.25, 0.125, 10),
    'gpt-5-mini': usd('openai', 0.25, 0.025, 2),
    'gpt-5-nano': usd('openai', 0.05, 0.005, 0.4),
  },
};
