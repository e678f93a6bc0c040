/** Turns a request and its behaviour into a response plan: status, headers, body pieces (pure). */
import { buildAnswer, countWords, promptTokens, splitPieces } from './answer.ts';
import { requestMessages } from './behaviour.ts';
import { completionBody, GARBAGE_BODY, responseId, SSE_DONE, streamEvents } from './dialects.ts';
import type { CompletionParts, WireToolCall } from './dialects.ts';
import { errorFor, findError, genericError, GLM_WEB_SEARCH } from './fixtures.ts';
import { refusedResponseFormat, structuredContent } from './structured.ts';
import type { MockBehaviour, MockDialect, MockMessage, MockRequestBody } from './types.ts';

export interface PlanInput {
  dialect: MockDialect;
  seq: number;
  body: MockRequestBody;
  headers: Record<string, string>;
  behaviour: MockBehaviour;
  /** Respond with the behaviour's error (decided by the server, which keeps failTimes counters). */
  fail: boolean;
  /** Server-wide counter for tool call ids. */
  nextCallId: () => number;
}

export interface ResponsePlan {
  status: number;
  statusText?: string;
  /** A body written as is, instead of the segments. */
  raw?: string | Uint8Array;
  headers: Record<string, string>;
  stream: boolean;
  /** Written in order (SSE events, or the one JSON body). */
  segments: string[];
  /** After the segments: end the response, stall forever, or destroy the socket. */
  after: 'end' | 'hang' | 'reset';
  /** Streams: delay between SSE events (from chunkDelayMs or tokensPerSec); none when absent. */
  intervalMs?: number;
}

/** The delay between SSE events: chunkDelayMs, or the words per content piece at tokensPerSec. */
export function streamInterval(b: MockBehaviour, words: number, pieces: number): number | undefined {
  if (b.chunkDelayMs !== undefined) return b.chunkDelayMs;
  if (b.tokensPerSec === undefined || !(b.tokensPerSec > 0) || pieces === 0) return undefined;
  return (1000 * (words / pieces)) / b.tokensPerSec;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function baseHeaders(b: MockBehaviour): Record<string, string> {
  const headers: Record<string, string> = {};
  if (b.retryAfter !== undefined) headers['retry-after'] = String(b.retryAfter);
  if (b.retryAfterMs !== undefined) headers['retry-after-ms'] = String(b.retryAfterMs);
  return Object.assign(headers, b.headers);
}

export function jsonPlan(status: number, body: unknown, headers: Record<string, string>, b: MockBehaviour): ResponsePlan {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const mid = b.reset === 'mid';
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'content-length': String(Buffer.byteLength(text)), ...headers },
    stream: false,
    segments: [mid ? text.slice(0, Math.floor(text.length / 2)) : text],
    after: mid ? 'reset' : 'end',
  };
}

function hasTool(tools: unknown, match: (tool: Record<string, unknown>) => boolean): boolean {
  return Array.isArray(tools) && tools.some((t) => t !== null && typeof t === 'object' && match(t));
}

const isGlmWebSearch = (t: Record<string, unknown>): boolean => t.type === 'web_search' && t.web_search !== null && typeof t.web_search === 'object';

const isKimiWebSearch = (t: Record<string, unknown>): boolean =>
  t.type === 'builtin_function' && (t.function as { name?: unknown } | undefined)?.name === '$web_search';

function toolCallsFor(input: PlanInput, messages: MockMessage[], prompt: number): WireToolCall[] | undefined {
  const { behaviour: b, body } = input;
  if (b.toolCalls && b.toolCalls.length > 0) {
    return b.toolCalls.map((call) => ({
      id: `call_${input.nextCallId()}`,
      type: 'function',
      function: {
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
      },
    }));
  }
  if (input.dialect !== 'kimi' || !hasTool(body.tools, isKimiWebSearch) || messages.at(-1)?.role === 'tool') return;
  const args = { search_result: { search_id: `mock-search-${input.seq}` }, usage: { total_tokens: 1000 + prompt } };
  const fn = { name: '$web_search', arguments: JSON.stringify(args) };
  return [{ id: `call_ws_${input.nextCallId()}`, type: 'function', function: fn }];
}

/** openai: a refusal, logprobs when asked, and the texts of choices beyond the first (`n`). */
function openaiExtras(input: PlanInput, text: string): Pick<CompletionParts, 'refusal' | 'logprobs' | 'moreChoices'> {
  if (input.dialect !== 'openai') return {};
  const { body, behaviour: b } = input;
  const extras: Pick<CompletionParts, 'refusal' | 'logprobs' | 'moreChoices'> = {};
  if (b.refusal !== undefined) extras.refusal = b.refusal;
  if (body.logprobs === true) extras.logprobs = true;
  const n = typeof body.n === 'number' && body.stream !== true ? Math.min(16, Math.floor(body.n)) : 1;
  if (n > 1) extras.moreChoices = Array.from({ length: n - 1 }, (_, i) => `${text} (choice ${i + 1})`);
  return extras;
}

/** The response for a request that passed routing, auth and JSON parsing (hang/reset 'before' excluded). */
export function planResponse(input: PlanInput): ResponsePlan {
  const plan = planBody(input);
  if (input.behaviour.statusText !== undefined) plan.statusText = input.behaviour.statusText;
  return plan;
}

function planBody(input: PlanInput): ResponsePlan {
  const { dialect, body, behaviour: b } = input;
  const headers: Record<string, string> = { 'x-request-id': `req_mock_${input.seq}`, ...baseHeaders(b) };
  if (input.fail) {
    const error = errorFor(dialect, b);
    return jsonPlan(error.status, error.body, headers, b);
  }
  if (b.garbage === 'body') return jsonPlan(200, GARBAGE_BODY, headers, b);
  if (b.rawBody !== undefined) return { status: 200, headers, stream: false, segments: [], raw: b.rawBody, after: 'end' };

  const messages = requestMessages(body);
  const refused = refusedResponseFormat(dialect, body, messages);
  if (refused !== undefined) return jsonPlan(400, genericError(dialect, 400, refused).body, headers, b);
  const prompt = promptTokens(messages);
  const cacheId = dialect === 'kimi' ? input.headers['x-msh-context-cache'] : undefined;
  if (cacheId !== undefined) {
    headers['msh-context-cache-id'] = cacheId;
    headers['msh-context-cache-token-saved'] = String(prompt);
  }
  const toolCalls = toolCallsFor(input, messages, prompt);
  // A tool-call answer carries the behaviour's `content` as its text, if any ("Let me search that.").
  const answer = toolCalls
    ? { text: b.content ?? '', finishReason: 'tool_calls', completionTokens: countWords(b.content ?? '') }
    : (structuredAnswer(input, messages) ?? buildAnswer(dialect, messages, b));
  const parts: CompletionParts = {
    dialect,
    id: responseId(dialect, input.seq),
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'mock-model',
    content: answer.text,
    reasoning: typeof b.reasoning === 'string' ? b.reasoning : undefined,
    toolCalls,
    finishReason: b.noFinish ? null : answer.finishReason,
    promptTokens: prompt,
    completionTokens: answer.completionTokens,
    cachedTokens: cacheId !== undefined ? prompt : 0,
    webSearch: dialect === 'glm' && hasTool(body.tools, isGlmWebSearch) ? GLM_WEB_SEARCH : undefined,
    ...openaiExtras(input, answer.text),
  };
  if (body.stream !== true) return jsonPlan(200, completionBody(parts), headers, b);

  const includeUsage = body.stream_options?.include_usage === true;
  const pieces = splitPieces(answer.text, b.chunks);
  let segments = streamEvents(parts, pieces, { includeUsage, garbage: b.garbage === 'chunk' });
  let after: ResponsePlan['after'] = 'end';
  if (b.streamError !== undefined) segments = withStreamError(segments, input);
  if (b.noDone) {
    segments = segments.filter((s) => s !== SSE_DONE);
    after = 'hang';
  }
  if (b.hangAfterChunks !== undefined && b.hangAfterChunks < segments.length) {
    segments = segments.slice(0, Math.max(0, b.hangAfterChunks));
    after = 'hang';
  } else if (b.reset === 'mid') {
    segments = segments.slice(0, Math.floor(segments.length / 2));
    after = 'reset';
  }
  const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
  const plan: ResponsePlan = { status: 200, headers: { ...sseHeaders, ...headers }, stream: true, segments, after };
  const intervalMs = streamInterval(b, answer.completionTokens, pieces.length);
  if (intervalMs !== undefined) plan.intervalMs = intervalMs;
  return plan;
}

/** A response_format request's JSON answer, unless the behaviour sets the content or cuts the answer (`lengthRounds`). */
function structuredAnswer(input: PlanInput, messages: MockMessage[]): ReturnType<typeof buildAnswer> | undefined {
  const { behaviour: b, body, dialect } = input;
  if (b.content !== undefined || (b.lengthRounds ?? 0) > 0) return undefined;
  const text = structuredContent(body, messages, buildAnswer(dialect, messages, b).text);
  return text === undefined ? undefined : { text, finishReason: b.finishReason ?? 'stop', completionTokens: countWords(text) };
}

/** The stream cut after `streamErrorAfter` events by an error event; nothing follows it but the end. */
function withStreamError(segments: string[], input: PlanInput): string[] {
  const b = input.behaviour;
  const error = typeof b.streamError === 'string' ? (findError(input.dialect, b.streamError)?.body.error ?? { message: b.streamError }) : b.streamError;
  const answer = segments.filter((s) => s !== SSE_DONE);
  const at = Math.min(answer.length, Math.max(0, b.streamErrorAfter ?? Math.floor(answer.length / 2)));
  const frame = `${b.streamErrorEvent ? 'event: error\n' : ''}data: ${JSON.stringify({ error })}\n\n`;
  return [...answer.slice(0, at), frame];
}
