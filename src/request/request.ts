import { z } from 'zod';
import { InvalidRequestError } from '../errors/errors.ts';
import type { ProviderProfile } from './providers.ts';
import type { ChatCall, ResolvedProvider } from '../wire/protocol.ts';
import type { ChatMessage } from '../types/chat.ts';
import { fallbacksSchema } from './fallbacks-schema.ts';
import { describeValue, headerValueIssue, nonNegativeInt, positiveInt } from '../util/validation.ts';
import { assertJsonData, parseOrThrow } from '../errors/checks.ts';
import { checkChoices, checkExtra, parameterBody, parameterFields } from './chat-params.ts';
import { checkStructured, structuredRetriesField } from './structured.ts';

const METADATA_MAX_BYTES = 16 * 1024;
/** The largest `maxResponseBytes` (1 GiB): beyond it a string cannot even hold the answer. */
export const MAX_RESPONSE_BYTES_LIMIT = 1024 * 1024 * 1024;

const contentPart = z.looseObject({ type: z.string().min(1), text: z.string().optional() });
const functionCall = z.looseObject({ name: z.string(), arguments: z.string() });
const toolCall = z.union([
  z.looseObject({ id: z.string(), type: z.string(), function: functionCall }),
  z.looseObject({ id: z.string(), type: z.literal('custom'), custom: z.looseObject({ name: z.string(), input: z.string() }) }),
]);
// Every field of the openai SDK's message params and of the assistant message it returns.
const message = z
  .strictObject({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function', 'cache']),
    content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).optional(),
    tool_call_id: z.string().optional(),
    refusal: z.string().nullable().optional(),
    annotations: z.array(z.looseObject({ type: z.string() })).optional(),
    audio: z.looseObject({ id: z.string() }).nullable().optional(),
    function_call: z.looseObject({ name: z.string(), arguments: z.string() }).nullable().optional(),
    partial: z.boolean().optional(),
    reasoning_content: z.string().nullable().optional(),
  })
  .refine((m) => m.content !== undefined || m.role === 'assistant', {
    message: 'expected `content` (only an assistant message may leave it out)',
    path: ['content'],
  });

// Header names HTTP allows; values without line breaks. The provider's key sets Authorization.
const headerRecord = z
  .record(
    z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name'),
    z.string().regex(/^[^\r\n\0]*$/, 'expected a header value without line breaks'),
  )
  .refine((h) => !Object.keys(h).some((name) => name.toLowerCase() === 'authorization'), "expected no `Authorization` header (the provider's apiKey sets it)");

const jsonRecord = z.record(z.string(), z.unknown());

const sessionFields = {
  timeoutMs: positiveInt(86_400_000).optional(),
  requestId: z.string().min(1).max(256).optional(),
  signal: z.instanceof(AbortSignal, { message: 'expected an AbortSignal' }).optional(),
  metadata: jsonRecord.optional(),
};

export const chatRequestSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1).optional(),
  messages: z.array(message).min(1).optional(),
  prompt: z.string().min(1).optional(),
  systemPrompt: z.string().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: positiveInt(1_000_000).optional(),
  tools: z
    .array(z.looseObject({ type: z.string().min(1) }))
    .max(128)
    .optional(),
  toolChoice: z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string() })]).optional(),
  continuation: z
    .union([z.literal(false), z.strictObject({ maxAttempts: positiveInt(50).optional(), maxTotalTokens: positiveInt(10_000_000).optional() })])
    .optional(),
  cache: z.strictObject({ id: z.string().min(1), resetTtlSeconds: z.number().int().min(0).max(86_400).optional() }).optional(),
  webSearch: z.union([z.boolean(), jsonRecord]).optional(),
  idleTimeoutMs: positiveInt(3_600_000).optional(),
  maxResponseBytes: positiveInt(MAX_RESPONSE_BYTES_LIMIT).optional(),
  onDelta: z.custom<(text: string) => void>((v) => typeof v === 'function', 'expected a function').optional(),
  maxRetries: nonNegativeInt(20).optional(),
  headers: headerRecord.optional(),
  query: jsonRecord.optional(),
  structuredRetries: structuredRetriesField,
  extra: jsonRecord.optional(),
  ...parameterFields,
  fallbacks: fallbacksSchema.optional(),
  ...sessionFields,
});

export const executeRequestSchema = z.strictObject({
  handler: z.union([z.string().min(1), z.instanceof(URL)]),
  name: z.string().min(1).optional(),
  input: z.unknown(),
  /** Run the handler again (once, on a new thread) when its thread dies; off: a handler's side effects must not happen twice unasked. */
  retryOnCrash: z.boolean().optional(),
  ...sessionFields,
});

/** What the supervisor needs of any request beyond its payload. */
export interface SessionRequestFields {
  timeoutMs?: number;
  requestId?: string;
  signal?: AbortSignal;
  metadata?: Record<string, unknown>;
}

export interface PreparedChat extends SessionRequestFields {
  provider: ResolvedProvider;
  call: ChatCall;
  onDelta?: (text: string) => void;
  maxRetries?: number;
}

function invalid(issue: string): never {
  throw new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
}

function checkMetadata(metadata: Record<string, unknown> | undefined): void {
  if (metadata === undefined) return;
  assertJsonData(metadata, 'metadata');
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(metadata));
  } catch {
    invalid(`\`metadata\`: expected JSON-serialisable data, got a value JSON.stringify refuses`);
  }
  if (bytes > METADATA_MAX_BYTES) invalid(`\`metadata\`: expected at most ${METADATA_MAX_BYTES} bytes of JSON, got ${bytes} bytes`);
}

// A profile's key is fixed once the options are resolved: each profile is resolved (and its key checked) once.
const resolved = new WeakMap<ProviderProfile, ResolvedProvider>();

function resolveProvider(name: string, providers: Map<string, ProviderProfile>): ResolvedProvider {
  const profile = providers.get(name);
  if (profile === undefined) invalid(`\`provider\`: expected one of ${[...providers.keys()].map((p) => `"${p}"`).join('|')}, got ${describeValue(name)}`);
  let provider = resolved.get(profile);
  if (provider === undefined) resolved.set(profile, (provider = resolveProfile(name, profile)));
  return provider;
}

function resolveProfile(name: string, profile: ProviderProfile): ResolvedProvider {
  const { keyEnv, apiKey, ...rest } = profile;
  if (apiKey === undefined) {
    const where = keyEnv.length > 0 ? `set ${keyEnv.join(' or ')}, or pass` : 'pass';
    invalid(`\`provider\`: "${name}" has no API key: ${where} providers.${name}.apiKey to createSupervisor`);
  }
  // A key from the environment is checked here (one given to createSupervisor was checked there).
  const keyIssue = headerValueIssue(apiKey);
  if (keyIssue !== undefined) invalid(`\`provider\`: the API key of "${name}" ${keyIssue} (it is sent in the Authorization header)`);
  return { ...rest, apiKey };
}

function buildMessages(request: z.output<typeof chatRequestSchema>): ChatMessage[] {
  const messages: ChatMessage[] = [...((request.messages as ChatMessage[] | undefined) ?? [])];
  if (request.systemPrompt !== undefined && messages[0]?.role !== 'system') messages.unshift({ role: 'system', content: request.systemPrompt });
  if (request.prompt !== undefined) messages.push({ role: 'user', content: request.prompt });
  if (messages.length === 0 || messages.every((m) => m.role === 'system' || m.role === 'developer')) {
    invalid('`messages`: expected at least one non-system message (or a `prompt`), got none');
  }
  return messages;
}

function checkDialectRules(call: ChatCall, provider: ResolvedProvider): void {
  if (provider.dialect === 'kimi' && call.toolChoice === 'required') {
    invalid('`toolChoice`: Kimi does not support "required"; expected "auto", "none" or a named function, got "required" (string)');
  }
  if (provider.dialect === 'glm' && call.toolChoice !== undefined && call.toolChoice !== 'auto') {
    invalid(`\`toolChoice\`: GLM accepts only "auto", got ${describeValue(call.toolChoice)}`);
  }
}

/** What goes into the request body as given must be JSON data: no cycles, BigInts, functions or Symbols. */
function checkBodyData(request: z.output<typeof chatRequestSchema>): void {
  for (const field of ['extra', 'tools', 'toolChoice', 'webSearch', 'query', 'responseFormat'] as const) assertJsonData(request[field], field);
  // The whole message: fields zod passes through (a tool call's or an annotation's extras) are sent too.
  request.messages?.forEach((m, i) => assertJsonData(m, `messages[${i}]`));
  const cacheIssue = request.cache === undefined ? undefined : headerValueIssue(request.cache.id);
  if (cacheIssue !== undefined) invalid(`\`cache.id\`: ${cacheIssue} (it is sent in the X-Msh-Context-Cache header)`);
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    const issue = headerValueIssue(value);
    if (issue !== undefined) invalid(`\`headers.${name}\`: ${issue}`);
  }
}

type ParsedChat = z.output<typeof chatRequestSchema>;
const ROLES = new Set(message.shape.role.options as readonly string[]);
const FIELDS = chatRequestSchema.shape as Record<string, z.ZodType>;

/** Messages of the common shape (`{ role, content: string }` and nothing else), copied; else undefined. */
function simpleMessages(value: unknown): ChatMessage[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const out: ChatMessage[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const m = value[i] as { role?: unknown; content?: unknown } | null;
    if (typeof m !== 'object' || m === null || Object.getPrototypeOf(m) !== Object.prototype || Object.keys(m).length !== 2) return undefined;
    if (typeof m.role !== 'string' || !ROLES.has(m.role) || typeof m.content !== 'string') return undefined;
    out[i] = { role: m.role, content: m.content } as ChatMessage;
  }
  return out;
}

/**
 * The request checked field by field, only the fields the host passed in (zod's strict object
 * would visit all forty and copy every message); undefined when anything is unusual, and the full
 * parse then says exactly what is wrong.
 */
function quickParse(input: unknown): ParsedChat | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'messages') {
      const messages = simpleMessages(value);
      if (messages === undefined) return undefined;
      out[key] = messages;
      continue;
    }
    const field = FIELDS[key];
    if (field === undefined || !field.safeParse(value).success) return undefined;
    out[key] = value;
  }
  return typeof out['provider'] === 'string' ? (out as ParsedChat) : undefined;
}

/** What validating a request needs of the resolved options (the supervisor's, or a worker host's). */
export interface RequestDefaults {
  providers: Map<string, ProviderProfile>;
  maxResponseBytes: number;
}

/** Validates a chat request completely and resolves it against the providers; throws ERR_INVALID_REQUEST. */
export function prepareChat(input: unknown, options: RequestDefaults, stream: boolean): PreparedChat {
  const request = quickParse(input) ?? parseOrThrow(chatRequestSchema, input, 'request');
  checkMetadata(request.metadata);
  checkBodyData(request);
  checkExtra(request.extra, request);
  checkChoices(request, stream || request.onDelta !== undefined);
  const provider = resolveProvider(request.provider, options.providers);
  const { json } = checkStructured(request, provider, stream || request.onDelta !== undefined);
  // Continuation follows the first choice: with several choices it is off unless asked for (refused above);
  // a JSON answer cannot be continued (refused above when asked for).
  const several = request.n !== undefined && request.n > 1;
  const continuation = request.continuation === false || several || json ? false : { maxAttempts: 3, maxTotalTokens: 32_000, ...request.continuation };
  const params = parameterBody(request);
  const call: ChatCall = {
    model: request.model ?? provider.defaultModel,
    messages: buildMessages(request),
    continuation,
    stream: stream || request.onDelta !== undefined,
    idleTimeoutMs: request.idleTimeoutMs ?? 60_000,
    maxResponseBytes: request.maxResponseBytes ?? options.maxResponseBytes,
    ...pick(request, ['temperature', 'maxOutputTokens', 'tools', 'toolChoice', 'cache', 'webSearch', 'extra', 'headers', 'query']),
    // Left out when 0: a call without it is what every worker host (BullMQ's job schema) already takes.
    ...(request.structuredRetries ? { structuredRetries: request.structuredRetries } : {}),
    ...(params !== undefined ? { params } : {}),
  };
  checkDialectRules(call, provider);
  return {
    provider,
    call,
    ...pick(request, ['timeoutMs', 'requestId', 'signal', 'metadata', 'onDelta', 'maxRetries']),
  };
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
