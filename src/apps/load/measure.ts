// One measured request: a chat session, timed on the host's main thread where the caller sees it.
// TTFT: call to first answer text; ITL: first to last text ÷ (output tokens − 1), the mean gap per
// token (TPOT); e2e: call to result. Token counts come from the provider's usage, or are estimated.
import type { ChatRequest, ChatResult, Supervisor } from '../../api/public.ts';

export interface Sample {
  /** When the request was issued, ms after its level started. */
  startMs: number;
  e2eMs: number;
  ok: boolean;
  /** Failed: `code [status] [providerCode]`, e.g. `ERR_PROVIDER 429 rate_limit_reached_error`. */
  error?: string;
  /** Ended by the run's stop (Ctrl-C): neither a success nor a failure of the provider. */
  cancelled?: boolean;
  ttftMs?: number;
  itlMs?: number;
  outputTokens: number;
  inputTokens: number;
  /** A token count had to be estimated (the provider sent no usage). */
  estimated: boolean;
  /** Provider calls made (1 plus retries). */
  attempts: number;
  /** Continuation rounds beyond the first call. */
  continuationRounds: number;
  /** What the session cost at list prices (`result.metadata.cost`); absent when its model has no price. */
  cost?: { amount: number; currency: string };
}

/** ~4 characters a token: the usual estimate when a provider reports no usage. */
export const estimateTokens = (text: string): number => Math.max(1, Math.round(text.length / 4));

export async function measureRequest(supervisor: Supervisor, request: ChatRequest, stream: boolean, levelStart: number): Promise<Sample> {
  const start = performance.now();
  let first: number | undefined;
  let last: number | undefined;
  const onDelta = () => {
    last = performance.now();
    first ??= last;
  };
  try {
    const result = await supervisor.chat(stream ? { ...request, onDelta } : request);
    const end = performance.now();
    return success(result, request, {
      startMs: start - levelStart,
      e2eMs: end - start,
      first: first === undefined ? undefined : first - start,
      last: last === undefined ? undefined : last - start,
    });
  } catch (error) {
    return {
      startMs: start - levelStart,
      e2eMs: performance.now() - start,
      ok: false,
      error: errorKey(error),
      outputTokens: 0,
      inputTokens: 0,
      estimated: false,
      attempts: 0,
      continuationRounds: 0,
    };
  }
}

interface Times {
  startMs: number;
  e2eMs: number;
  first: number | undefined;
  last: number | undefined;
}

function success(result: ChatResult, request: ChatRequest, t: Times): Sample {
  const { usage, metadata } = result;
  const outputEstimated = usage.completionTokens === 0 && result.content !== '';
  const inputEstimated = usage.promptTokens === 0;
  const outputTokens = outputEstimated ? estimateTokens(result.content) : usage.completionTokens;
  const sample: Sample = {
    startMs: t.startMs,
    e2eMs: t.e2eMs,
    ok: true,
    outputTokens,
    inputTokens: inputEstimated ? estimateTokens(JSON.stringify(request.messages ?? '')) : usage.promptTokens,
    estimated: outputEstimated || inputEstimated,
    attempts: metadata.session.attempts,
    continuationRounds: Math.max(0, (metadata.continuation?.attempts ?? 1) - 1),
  };
  if (metadata.cost !== undefined) sample.cost = { amount: metadata.cost.amount, currency: metadata.cost.currency };
  if (t.first !== undefined) sample.ttftMs = t.first;
  if (t.first !== undefined && t.last !== undefined && outputTokens > 1) sample.itlMs = (t.last - t.first) / (outputTokens - 1);
  return sample;
}

/** `code [status] [providerCode]`: what the failure tables group by. */
export function errorKey(error: unknown): string {
  const e = error as { code?: unknown; status?: unknown; providerCode?: unknown };
  const parts = [typeof e.code === 'string' ? e.code : 'ERR_UNKNOWN'];
  if (typeof e.status === 'number') parts.push(String(e.status));
  if (typeof e.providerCode === 'string' && e.providerCode !== '') parts.push(e.providerCode);
  return parts.join(' ');
}
