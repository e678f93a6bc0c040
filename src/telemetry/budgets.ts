// Spending limits per provider and per caller tag: spend is what completed sessions cost (added as
// they complete), checked before a session is admitted. This supervisor's own spend only.
import { BudgetExceededError } from '../errors/errors.ts';
import type { Budget, BudgetOptions, SessionCost } from '../types/cost.ts';
import { round } from './cost.ts';

export class Budgets {
  readonly #limits = new Map<string, Required<Budget>>();
  readonly #spent = new Map<string, number>();

  constructor(options: BudgetOptions) {
    for (const [name, budget] of Object.entries(options.providers ?? {})) this.#limits.set(`provider:${name}`, { currency: 'USD', ...budget });
    for (const [tag, budget] of Object.entries(options.tags ?? {})) this.#limits.set(`tag:${tag}`, { currency: 'USD', ...budget });
  }

  /** Throws ERR_BUDGET_EXCEEDED when the provider's or the tag's budget is spent. */
  check(provider: string, tag: string | undefined, requestId: string | undefined): void {
    for (const key of tag === undefined ? [`provider:${provider}`] : [`provider:${provider}`, `tag:${tag}`]) {
      const limit = this.#limits.get(key);
      if (limit === undefined || !this.spent(key)) continue;
      const spent = this.#spent.get(key) ?? 0;
      throw new BudgetExceededError(
        `The budget of ${key} is spent: ${spent} ${limit.currency} of ${limit.limit} ${limit.currency}; the session was refused before any call`,
        key,
        requestId === undefined ? {} : { requestId },
      );
    }
  }

  /** Whether the budget named `key` (`provider:kimi`, `tag:team-a`) exists and is spent. */
  spent(key: string): boolean {
    const limit = this.#limits.get(key);
    return limit !== undefined && (this.#spent.get(key) ?? 0) >= limit.limit;
  }

  /** A completed session's cost counts against its provider's and tag's budgets (in their currency). */
  spend(provider: string, tag: string | undefined, cost: SessionCost): void {
    this.#add(`provider:${provider}`, cost);
    if (tag !== undefined) this.#add(`tag:${tag}`, cost);
  }

  #add(key: string, cost: SessionCost): void {
    const limit = this.#limits.get(key);
    if (limit === undefined || limit.currency !== cost.currency) return;
    this.#spent.set(key, round((this.#spent.get(key) ?? 0) + cost.amount));
  }
}
