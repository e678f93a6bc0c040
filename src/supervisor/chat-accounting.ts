// What the supervisor does around each chat session for telemetry and cost: budgets checked before
// admission, the session's span begun where the caller called and ended when the caller is told,
// the result's cost (`metadata.cost`) and spend counted as it completes.
import type { SessionEnd, SessionTrace } from '../telemetry/session-trace.ts';
import type { SessionTelemetry } from '../telemetry/session-telemetry.ts';
import type { Budgets } from '../telemetry/budgets.ts';
import { costOf, type PriceMap } from '../telemetry/cost.ts';
import { requestAttributes } from '../telemetry/gen-ai.ts';
import type { SessionMetrics } from '../engine/metrics.ts';
import type { ChatResult, SessionMetadata } from '../types/chat.ts';
import type { FallbackEvent, RoutingEvents } from '../types/session.ts';
import type { ChatCall, ResolvedProvider } from '../wire/protocol.ts';

export class ChatAccounting {
  readonly #metrics: SessionMetrics;
  readonly #prices: PriceMap;
  readonly #budgets: Budgets | undefined;
  readonly #telemetry: SessionTelemetry | undefined;

  constructor(metrics: SessionMetrics, prices: PriceMap, budgets: Budgets | undefined, telemetry: SessionTelemetry | undefined) {
    this.#metrics = metrics;
    this.#prices = prices;
    this.#budgets = budgets;
    this.#telemetry = telemetry;
  }

  /** Throws ERR_BUDGET_EXCEEDED (counted as a rejection) when the provider's or the caller tag's budget is spent. */
  checkBudgets(provider: string, metadata: Record<string, unknown> | undefined, requestId: string | undefined): void {
    if (this.#budgets === undefined) return;
    try {
      this.#budgets.check(provider, tagOf(metadata), requestId);
    } catch (error) {
      this.#metrics.rejected.budget++;
      throw error;
    }
  }

  /** The targets after the first (its fallbacks) whose provider's budget is not spent. */
  withinBudgets<T extends { provider: { name: string } }>(targets: T[]): T[] {
    const budgets = this.#budgets;
    if (budgets === undefined || targets.length < 2) return targets;
    return targets.filter((target, i) => i === 0 || !budgets.spent(`provider:${target.provider.name}`));
  }

  /** The session's span, begun under the caller's active context; undefined when nothing records. */
  begin(sessionId: string, requestId: string, provider: ResolvedProvider, call: ChatCall): SessionTrace | undefined {
    return this.#telemetry?.begin({ sessionId, requestId, provider, call });
  }

  /** The caller's result: `metadata.session` (and `request`), its cost, and the spend counted. */
  readonly toValue = (value: unknown, session: SessionMetadata, request: Record<string, unknown> | undefined): ChatResult => {
    const result = value as ChatResult;
    const cost = this.#prices.size === 0 ? undefined : costOf(this.#prices, result.usage, result.model);
    const metadata: ChatResult['metadata'] = { ...result.metadata, session };
    if (cost !== undefined) metadata.cost = cost;
    if (request !== undefined) metadata['request'] = request;
    result.metadata = metadata;
    const tag = tagOf(request);
    this.#metrics.completedChat(result.provider, tag, result.usage, cost);
    if (cost !== undefined) this.#budgets?.spend(result.provider, tag, cost);
    return result;
  };

  /** Ends the session's span (or measures it) when its caller is told; the promise the caller gets. */
  watch(sessionId: string, outcome: Promise<unknown>, trace: SessionTrace | undefined, provider: ResolvedProvider, call: ChatCall): Promise<unknown> {
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return outcome;
    if (trace !== undefined)
      return outcome.then(
        (result) => {
          telemetry.finish(sessionId, { result: result as ChatResult });
          return result;
        },
        (error: unknown) => {
          telemetry.finish(sessionId, errorEnd(error));
          throw error;
        },
      );
    if (!telemetry.measuring) return outcome;
    const startedAt = Date.now();
    const end = (how: SessionEnd) => telemetry.measure(startedAt, metricAttributes(provider, call), how);
    return outcome.then(
      (result) => {
        end({ result: result as ChatResult });
        return result;
      },
      (error: unknown) => {
        end(errorEnd(error));
        throw error;
      },
    );
  }

  /** The engine refused the session at admission (a full queue): its span ends with that error. */
  refused(sessionId: string, error: unknown): void {
    this.#telemetry?.finish(sessionId, errorEnd(error));
  }

  /** Routing's decisions about a session, as events of its span. */
  routing<K extends keyof RoutingEvents>(type: K, event: RoutingEvents[K][0]): void {
    if (this.#telemetry === undefined || type !== 'fallback') return;
    const fallback = event as FallbackEvent;
    this.#telemetry.event(fallback.sessionId, 'sessionpool.fallback', {
      'sessionpool.fallback.reason': fallback.reason,
      'sessionpool.fallback.from': `${fallback.from.provider}/${fallback.from.model}`,
      'sessionpool.fallback.to': `${fallback.to.provider}/${fallback.to.model}`,
    });
  }
}

/** The caller's tag: `metadata.tag` when it is a string. */
function tagOf(metadata: Record<string, unknown> | undefined): string | undefined {
  const tag = metadata?.['tag'];
  return typeof tag === 'string' ? tag : undefined;
}

function errorEnd(error: unknown): SessionEnd {
  const { code, message, status } = (error ?? {}) as { code?: unknown; message?: unknown; status?: unknown };
  const end: SessionEnd = { error: { code: typeof code === 'string' ? code : 'Error', message: typeof message === 'string' ? message : String(error) } };
  if (typeof status === 'number') end.error.status = status;
  return end;
}

function metricAttributes(provider: ResolvedProvider, call: ChatCall) {
  const {
    'gen_ai.operation.name': operation,
    'gen_ai.provider.name': name,
    'gen_ai.request.model': model,
    'server.address': server,
  } = requestAttributes(provider, call);
  return { 'gen_ai.operation.name': operation, 'gen_ai.provider.name': name, 'gen_ai.request.model': model, 'server.address': server };
}
