// The GenAI semantic conventions (experimental, as of their registry in 2025): attribute names and
// the values sessionpool gives them. Kimi and GLM are not in the registry's list of
// `gen_ai.provider.name` values; the conventions let an unlisted provider use its own lowercase
// name, so they are named for their companies, as the registry names others (`openai`, `mistral_ai`).
import type { Dialect } from '../types/options.ts';
import type { ChatCall, ResolvedProvider } from '../wire/protocol.ts';
import type { Attributes } from './otel-api.ts';

const PROVIDER_NAMES: Record<Dialect, string> = { kimi: 'moonshot', glm: 'zhipu', openai: 'openai' };

/** `gen_ai.provider.name` for a provider of this dialect. */
export function genAiProvider(dialect: Dialect): string {
  return PROVIDER_NAMES[dialect];
}

/** The longest value a span or metric attribute from a provider's response keeps (model names, ids, finish reasons). */
export const MAX_ATTRIBUTE_LENGTH = 256;

/**
 * A value the provider sent (or anyone on its path), as an attribute: at most MAX_ATTRIBUTE_LENGTH
 * characters. A 1 MB model name would otherwise be copied onto every span, and into every metric
 * series the SDK keeps (one per distinct name, up to its cardinality limit).
 */
export function clip(value: string): string {
  return value.length <= MAX_ATTRIBUTE_LENGTH ? value : `${value.slice(0, MAX_ATTRIBUTE_LENGTH - 1)}…`;
}

const servers = new Map<string, { address: string; port: number }>();

/** `server.address` and `server.port` of a base URL (parsed once per URL). */
export function serverOf(baseURL: string): { address: string; port: number } {
  let server = servers.get(baseURL);
  if (server === undefined) {
    const url = new URL(baseURL);
    server = { address: url.hostname, port: url.port === '' ? (url.protocol === 'http:' ? 80 : 443) : Number(url.port) };
    if (servers.size < 256) servers.set(baseURL, server);
  }
  return server;
}

// Request settings under their wire names (ChatCall.params) → the conventions' attributes.
const PARAM_ATTRIBUTES: Record<string, string> = {
  top_p: 'gen_ai.request.top_p',
  top_k: 'gen_ai.request.top_k',
  frequency_penalty: 'gen_ai.request.frequency_penalty',
  presence_penalty: 'gen_ai.request.presence_penalty',
  seed: 'gen_ai.request.seed',
  n: 'gen_ai.request.choice.count',
  stop: 'gen_ai.request.stop_sequences',
};

/** What every span of a call to `provider` says: the operation, the provider, the model asked, the server. */
export function callAttributes(provider: ResolvedProvider, model: string): Attributes {
  const server = serverOf(provider.baseURL);
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': genAiProvider(provider.dialect),
    'gen_ai.request.model': model,
    'server.address': server.address,
    'server.port': server.port,
  };
}

/** The session span's attributes at its start: the call's and the request settings. */
export function requestAttributes(provider: ResolvedProvider, call: ChatCall): Attributes {
  const attributes = callAttributes(provider, call.model);
  if (call.temperature !== undefined) attributes['gen_ai.request.temperature'] = call.temperature;
  if (call.maxOutputTokens !== undefined) attributes['gen_ai.request.max_tokens'] = call.maxOutputTokens;
  for (const [name, value] of Object.entries(call.params ?? {})) {
    const key = PARAM_ATTRIBUTES[name];
    if (key === undefined) continue;
    if (typeof value === 'number') attributes[key] = value;
    else if (typeof value === 'string') attributes[key] = key === PARAM_ATTRIBUTES['stop'] ? [value] : value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) attributes[key] = value;
  }
  attributes['sessionpool.stream'] = call.stream;
  return attributes;
}

/** `gen_ai.input.messages` as the conventions shape them: role and text parts. */
export function inputMessages(call: ChatCall): string {
  return JSON.stringify(call.messages.map((m) => ({ role: m.role, parts: partsOf(m.content) })));
}

/** `gen_ai.output.messages`: the answer as one assistant message. */
export function outputMessages(content: string, finishReason: string): string {
  return JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content }], finish_reason: finishReason }]);
}

function partsOf(content: unknown): unknown[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (Array.isArray(content))
    return content.map((part) => ((part as { type?: unknown }).type === 'text' ? { type: 'text', content: (part as { text?: unknown }).text } : part));
  return [];
}
