// The public types of cost: prices per model, what a session cost, spend in stats, budgets.

/** What a million tokens cost on one model, in one currency. */
export interface ModelPrice {
  /** Per million input (prompt) tokens that were not served from a cache. */
  input: number;
  /** Per million input tokens served from a cache (Kimi's context cache, GLM's and OpenAI's prompt caching); `input` when absent. */
  cachedInput?: number;
  /** Per million output (completion) tokens, reasoning tokens included. */
  output: number;
  /** ISO 4217 code (`'USD'`, `'CNY'`). */
  currency: string;
}

/** A price of the shipped table: which provider sells the model. */
export interface ListedPrice extends ModelPrice {
  /** The provider whose pricing page lists it (`kimi`, `glm`, `openai`). */
  provider: string;
}

/** The shipped price table: where the figures come from and when they were read. */
export interface PriceTable {
  /** The pricing pages the figures were read from. */
  source: string[];
  /** The date the figures are for (YYYY-MM-DD): prices change, check the pages before relying on them. */
  date: string;
  /** Prices by model id, as the request or the response names the model. */
  models: Record<string, ListedPrice>;
}

/** What one session cost (`result.metadata.cost`): its usage (continuation rounds summed) at its model's price. */
export interface SessionCost {
  /** The total, in `currency`. */
  amount: number;
  /** ISO 4217 code of the price used. */
  currency: string;
  /** The model whose price was used (the one that answered). */
  model: string;
  /** Input tokens charged at the input price (the cached ones left out). */
  inputTokens: number;
  /** Input tokens charged at the cached-input price. */
  cachedInputTokens: number;
  /** Output tokens charged. */
  outputTokens: number;
}

/** Spend so far (`stats().cost`), summed per currency. */
export interface CostStats {
  /** Sessions whose result had a price (completed sessions of a model in the table). */
  priced: number;
  /** Completed chat sessions whose model has no price (they count nothing). */
  unpriced: number;
  /** Spend by currency. */
  total: Record<string, number>;
  /** Spend by provider, then currency. */
  byProvider: Record<string, Record<string, number>>;
  /** Spend by caller tag (the request's `metadata.tag`), then currency: the first 1,024 distinct tags (later new tags count in the totals only). */
  byTag: Record<string, Record<string, number>>;
}

/** A spending limit in one currency. */
export interface Budget {
  /** Refuse sessions once this much was spent (in `currency`). */
  limit: number;
  /** ISO 4217 code; only costs in this currency count against it. @default 'USD' */
  currency?: string;
}

/**
 * Spending limits of a supervisor (`createSupervisor({ budgets })`): once what its completed
 * sessions cost reaches a limit, new sessions it covers are refused before any call with
 * `ERR_BUDGET_EXCEEDED`. Spend is this supervisor's own (not shared between hosts) and counts
 * from its creation; sessions already running when the limit is reached still finish.
 */
export interface BudgetOptions {
  /** By provider name (a provider is one API key). */
  providers?: Record<string, Budget>;
  /** By caller tag: the request's `metadata.tag`. */
  tags?: Record<string, Budget>;
}

/** Traces and metrics through the global `@opentelemetry/api` (an optional peer). */
export interface TelemetryOptions {
  /**
   * Record the messages sent and the answer on the session span (`gen_ai.input.messages`,
   * `gen_ai.output.messages`): they may hold personal data, so the conventions leave them out unless asked.
   * @default false
   */
  recordContent?: boolean;
}
