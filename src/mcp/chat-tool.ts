/** The `chat` tool: one supervised session per call, cancelled with the MCP request. */
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import type { ChatRequest, Supervisor } from '../index.ts';
import type { ChatToolInput } from './chat-schema.ts';
import { ProgressReporter } from './progress.ts';
import { answerResult, errorResult } from './tool-result.ts';

/** Returns the error for a provider this server holds no key for (checked before any session starts). */
export type KeyCheck = (provider: string) => Error | undefined;

export function chatTool(supervisor: Supervisor, defaultProvider: string, checkKey: KeyCheck = () => undefined) {
  return async (args: ChatToolInput, ctx: ServerContext): Promise<CallToolResult> => {
    const request = toChatRequest(args, defaultProvider, ctx);
    const noKey = checkKey(request.provider);
    if (noKey !== undefined) return errorResult(noKey);
    const progress = ProgressReporter.of(ctx);
    if (progress !== undefined) request.onDelta = progress.push;
    try {
      const result = await supervisor.chat(request);
      await progress?.flush();
      return answerResult(result);
    } catch (error) {
      return errorResult(error);
    }
  };
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
