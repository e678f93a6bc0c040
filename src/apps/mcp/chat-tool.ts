/** The `chat` tool: one supervised session per call, cancelled with the MCP request. */
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { type ChatRequest, QueueFullError, type Supervisor } from '../../api/public.ts';
import type { ChatToolInput } from './chat-schema.ts';
import { budgetOf, type InputBudget, inputBytes } from './input-budget.ts';
import { ProgressReporter, progressTokenError } from './progress.ts';
import { answerResult, errorResult } from './tool-result.ts';

/** Returns the error for a provider this server holds no key for (checked before any session starts). */
export type KeyCheck = (provider: string) => Error | undefined;

export function chatTool(supervisor: Supervisor, defaultProvider: string, checkKey: KeyCheck = () => undefined, budget = budgetOf(supervisor)) {
  return async (args: ChatToolInput, ctx: ServerContext): Promise<CallToolResult> => {
    const request = toChatRequest(args, defaultProvider, ctx);
    const refused = checkKey(request.provider) ?? progressTokenError(ctx);
    if (refused !== undefined) return errorResult(refused);
    const bytes = inputBytes(args);
    const release = budget.take(bytes);
    if (release === undefined) return errorResult(overBudget(budget, bytes));
    const progress = ProgressReporter.of(ctx);
    if (progress !== undefined) request.onDelta = progress.push;
    try {
      const result = await supervisor.chat(request);
      await progress?.flush();
      return answerResult(result);
    } catch (error) {
      return errorResult(error);
    } finally {
      release();
    }
  };
}

function overBudget(budget: InputBudget, bytes: number): QueueFullError {
  const mib = (n: number) => `${(n / 1_048_576).toFixed(1)} MiB`;
  return new QueueFullError(
    `Server busy: calls in progress hold ${mib(budget.used)} of input, at most ${mib(budget.max)}, and this call's ${mib(bytes)} does not fit; try again when calls end`,
  );
}

function toChatRequest(args: ChatToolInput, defaultProvider: string, ctx: ServerContext): ChatRequest {
  const { provider, ...rest } = args;
  return {
    ...rest,
    provider: provider ?? defaultProvider,
    signal: callSignal(ctx),
    metadata: { mcp: { sessionId: ctx.sessionId ?? null, requestId: ctx.mcpReq.id } },
  };
}

/**
 * Aborted by `notifications/cancelled` or the transport closing (the SDK's signal), and over HTTP
 * also when the connection carrying the call closes before its answer: a client that disappears.
 */
function callSignal(ctx: ServerContext): AbortSignal {
  const connection = ctx.http?.req?.signal;
  return connection === undefined ? ctx.mcpReq.signal : AbortSignal.any([ctx.mcpReq.signal, connection]);
}
