/**
 * Response bodies and SSE events per dialect (pure functions), in the shapes of src/apps/mock/fixtures:
 * - kimi: `object` fields, top-level `usage.cached_tokens`; streams carry `usage` inside the last
 *   chunk's `choices[0]`, plus a trailing `choices: []` chunk with `usage` when include_usage.
 * - glm: no `object`, `request_id` = `id`, `usage.prompt_tokens_details.cached_tokens`; streams
 *   repeat `role` in every delta, have no `finish_reason` key before the last chunk, which
 *   carries the top-level `usage`.
 * - openai: the standard shapes (system_fingerprint, service_tier, refusal, annotations, usage
 *   details, logprobs when asked, `n` choices); streams carry usage only in a trailing chunk when
 *   include_usage.
 */
import type { MockDialect } from './types.ts';

export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface CompletionParts {
  dialect: MockDialect;
  id: string;
  created: number;
  model: string;
  content: string;
  reasoning?: string;
  toolCalls?: WireToolCall[];
  /** null: no finish_reason is ever sent (noFinish). */
  finishReason: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  webSearch?: readonly unknown[];
  /** openai: the answer is this refusal (content null). */
  refusal?: string;
  /** openai: send token logprobs (the request asked for `logprobs`). */
  logprobs?: boolean;
  /** openai: choices beyond the first (`n` > 1): their texts. */
  moreChoices?: readonly string[];
}

const FINGERPRINT = 'fp_mock0001';

/** Token logprobs of a text, one per word (deterministic: -0.25 each). */
export function tokenLogprobs(text: string): Json[] {
  return (text.match(/\s*\S+/g) ?? []).map((token) => ({ token, logprob: -0.25, bytes: [...Buffer.from(token)], top_logprobs: [] }));
}

export interface StreamOptions {
  includeUsage: boolean;
  /** Insert one malformed `data:` event in the middle. */
  garbage: boolean;
}

type Json = Record<string, unknown>;

export function responseId(dialect: MockDialect, seq: number): string {
  return dialect === 'glm' ? `2025mock${String(seq).padStart(10, '0')}` : `chatcmpl-mock-${seq}`;
}

export function usageBody(p: CompletionParts): Json {
  const usage: Json = {
    prompt_tokens: p.promptTokens,
    completion_tokens: p.completionTokens,
    total_tokens: p.promptTokens + p.completionTokens,
  };
  if (p.dialect === 'kimi') usage.cached_tokens = p.cachedTokens;
  if (p.dialect === 'openai') {
    usage.prompt_tokens_details = { cached_tokens: p.cachedTokens, audio_tokens: 0 };
    const reasoning = p.reasoning === undefined ? 0 : (p.reasoning.match(/\S+/g)?.length ?? 0);
    usage.completion_tokens_details = { reasoning_tokens: reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 };
  } else if (p.dialect === 'glm' || p.cachedTokens > 0) usage.prompt_tokens_details = { cached_tokens: p.cachedTokens };
  return usage;
}

function message(p: CompletionParts, text = p.content): Json {
  const openai = p.dialect === 'openai';
  const content = (p.toolCalls || p.refusal !== undefined) && openai ? null : text;
  const msg: Json = { role: 'assistant', content };
  if (openai) msg.refusal = p.refusal ?? null;
  if (p.reasoning !== undefined) msg.reasoning_content = p.reasoning;
  if (p.toolCalls) msg.tool_calls = p.toolCalls;
  if (openai) msg.annotations = [];
  return msg;
}

function openaiChoices(p: CompletionParts): Json[] {
  const texts = [p.content, ...(p.moreChoices ?? [])];
  return texts.map((text, index) => {
    const logprobs = p.logprobs ? { content: tokenLogprobs(p.refusal ?? text), refusal: null } : null;
    return { index, message: message(p, text), logprobs, finish_reason: p.finishReason };
  });
}

/** The non-stream response body. */
export function completionBody(p: CompletionParts): Json {
  const finish_reason = p.finishReason;
  if (p.dialect === 'glm') {
    const body: Json = { choices: [{ finish_reason, index: 0, message: message(p) }], created: p.created, id: p.id };
    Object.assign(body, { model: p.model, request_id: p.id, usage: usageBody(p) });
    if (p.webSearch) body.web_search = p.webSearch;
    return body;
  }
  if (p.dialect === 'openai') {
    const head = { id: p.id, object: 'chat.completion', created: p.created, model: p.model };
    return { ...head, choices: openaiChoices(p), usage: usageBody(p), service_tier: 'default', system_fingerprint: FINGERPRINT };
  }
  const choice: Json = { index: 0, message: message(p), finish_reason };
  return { id: p.id, object: 'chat.completion', created: p.created, model: p.model, choices: [choice], usage: usageBody(p) };
}

const sse = (event: Json): string => `data: ${JSON.stringify(event)}\n\n`;
export const SSE_DONE = 'data: [DONE]\n\n';
const GARBAGE_EVENT = 'data: {"id":"garbage","choices":[{"index":0,"delta":{"content":\n\n';

/** The deltas of the answer itself: reasoning, content pieces, tool calls (same in every dialect). */
function answerDeltas(p: CompletionParts, pieces: string[]): Json[] {
  const deltas: Json[] = [];
  if (p.reasoning !== undefined) for (const piece of p.reasoning.match(/\s*\S+\s*$|\s*\S+/g) ?? [p.reasoning]) deltas.push({ reasoning_content: piece });
  for (const content of pieces) deltas.push({ content });
  if (p.toolCalls) deltas.push({ tool_calls: p.toolCalls.map((call, index) => ({ index, ...call })) });
  return deltas;
}

function glmEvents(p: CompletionParts, pieces: string[]): Json[] {
  const head = { id: p.id, created: p.created, model: p.model };
  const event = (delta: Json): Json => ({ ...head, choices: [{ index: 0, delta: { role: 'assistant', ...delta } }] });
  const events = answerDeltas(p, pieces).map(event);
  if (p.finishReason !== null) {
    const choice = { index: 0, finish_reason: p.finishReason, delta: { role: 'assistant', content: '' } };
    events.push({ ...head, choices: [choice], usage: usageBody(p) });
  }
  const first = events[0];
  if (first && p.webSearch) first.web_search = p.webSearch;
  return events;
}

function openaiLikeEvents(p: CompletionParts, pieces: string[], includeUsage: boolean): Json[] {
  const openai = p.dialect === 'openai';
  const head: Json = { id: p.id, object: 'chat.completion.chunk', created: p.created, model: p.model };
  if (openai) Object.assign(head, { service_tier: 'default', system_fingerprint: FINGERPRINT });
  const event = (delta: Json, extra?: Json): Json => ({
    ...head,
    choices: [{ index: 0, delta, ...(openai ? { logprobs: null } : {}), finish_reason: null, ...extra }],
  });
  const first: Json = openai ? { role: 'assistant', content: '', refusal: null } : { role: 'assistant', content: '' };
  const answer: Json[] = openai && p.refusal !== undefined ? [...(p.refusal.match(/\s*\S+/g) ?? [])].map((refusal) => ({ refusal })) : answerDeltas(p, pieces);
  const events = [first, ...answer].map((delta) => {
    const text = typeof delta.content === 'string' ? delta.content : typeof delta.refusal === 'string' ? delta.refusal : '';
    const key = typeof delta.refusal === 'string' ? 'refusal' : 'content';
    const logprobs =
      p.logprobs && text !== ''
        ? { logprobs: { content: key === 'content' ? tokenLogprobs(text) : null, refusal: key === 'refusal' ? tokenLogprobs(text) : null } }
        : undefined;
    return event(delta, logprobs);
  });
  if (p.finishReason !== null) {
    const kimiUsage = p.dialect === 'kimi' ? { usage: usageBody(p) } : undefined;
    events.push(event({}, { finish_reason: p.finishReason, ...kimiUsage }));
  }
  if (includeUsage) events.push({ ...head, choices: [], usage: usageBody(p) });
  return events;
}

/** The SSE events of a stream, each framed as `data: <json>\n\n`, ending with `data: [DONE]`. */
export function streamEvents(p: CompletionParts, pieces: string[], options: StreamOptions): string[] {
  const objects = p.dialect === 'glm' ? glmEvents(p, pieces) : openaiLikeEvents(p, pieces, options.includeUsage);
  const events = objects.map(sse);
  if (options.garbage) events.splice(Math.max(1, Math.floor(events.length / 2)), 0, GARBAGE_EVENT);
  events.push(SSE_DONE);
  return events;
}

/** A body that is not valid JSON (status 200, content-type JSON). */
export const GARBAGE_BODY = '{"id":"garbage","object":"chat.completion","choices":[{"index":0,"message":{"role":';
