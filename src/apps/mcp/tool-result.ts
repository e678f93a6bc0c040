/** Engine outcomes as MCP tool results: an answer, or an error the client can match on by its code. */
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { ChatResult, WireError } from '../../api/public.ts';

/** The fields of an engine error a client may use; nothing else of the error (no stack, no cause) leaves. */
export type ToolError = Pick<WireError, 'code' | 'message' | 'status' | 'providerCode' | 'retryable' | 'sessionId' | 'requestId'> & {
  /** ERR_INVALID_REQUEST: each problem found. */
  issues?: string[];
};

export function answerResult(result: ChatResult): CallToolResult {
  return {
    content: [{ type: 'text', text: result.content }],
    structuredContent: result as unknown as Record<string, unknown>,
  };
}

/** Where an error result carries the error's fields (structuredContent is reserved for answers of the output schema). */
export const ERROR_META_KEY = 'sessionpool/error';

/** A provider or session failure is a result with `isError`, never a protocol error. */
export function errorResult(error: unknown): CallToolResult {
  const detail = toToolError(error);
  const status = detail.status !== undefined ? ` (status ${detail.status})` : '';
  return {
    isError: true,
    content: [{ type: 'text', text: `${detail.code}${status}: ${detail.message}` }],
    _meta: { [ERROR_META_KEY]: detail },
  };
}

export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

function toToolError(error: unknown): ToolError {
  if (!(error instanceof Error)) return { code: 'ERR_INTERNAL', message: String(error) };
  const e = error as Error & Partial<ToolError>;
  const detail: ToolError = { code: typeof e.code === 'string' ? e.code : 'ERR_INTERNAL', message: e.message };
  for (const key of ['status', 'providerCode', 'retryable', 'sessionId', 'requestId', 'issues'] as const) {
    if (e[key] !== undefined) (detail as unknown as Record<string, unknown>)[key] = e[key];
  }
  return detail;
}
