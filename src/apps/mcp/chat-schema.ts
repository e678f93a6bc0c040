/** What the `chat` tool accepts and returns, as zod schemas (the SDK turns them into JSON Schema). */
import { z } from 'zod';

const message = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});

/**
 * The longest deadline a client may ask for by default (10 minutes). A running call keeps its MCP
 * session from being evicted and holds an engine slot: a client allowed a day-long `timeoutMs`
 * could hold both for a day. The operator raises it with `--max-timeout`.
 */
export const DEFAULT_MAX_TIMEOUT_MS = 600_000;

/** The `chat` tool's arguments, with `timeoutMs` capped at `maxTimeoutMs` (advertised as the schema's maximum). */
export function chatInputSchemaFor(maxTimeoutMs: number) {
  let schema = byMaxTimeout.get(maxTimeoutMs);
  if (schema === undefined) byMaxTimeout.set(maxTimeoutMs, (schema = buildChatInputSchema(maxTimeoutMs)));
  return schema;
}

function buildChatInputSchema(maxTimeoutMs: number) {
  return z
    .strictObject({
      provider: z.string().min(1).optional().describe("A configured provider (see the `providers` tool); default: the server's default provider"),
      model: z.string().min(1).optional().describe("The model; default: the provider's default model"),
      prompt: z.string().min(1).optional().describe('The user message (GLM-style form); appended after `messages` when both are given'),
      messages: z.array(message).min(1).optional().describe('OpenAI-style conversation'),
      systemPrompt: z.string().min(1).optional().describe('Sent as a system message first'),
      temperature: z.number().min(0).max(2).optional(),
      maxOutputTokens: z.number().int().min(1).max(1_000_000).optional().describe('Sent as max_tokens'),
      webSearch: z.boolean().optional().describe("GLM's web_search tool or Kimi's $web_search"),
      cache: z
        .strictObject({ id: z.string().min(1), resetTtlSeconds: z.number().int().min(0).max(86_400).optional() })
        .optional()
        .describe('Kimi context cache'),
      continuation: z
        .union([
          z.literal(false),
          z.strictObject({ maxAttempts: z.number().int().min(1).max(50).optional(), maxTotalTokens: z.number().int().min(1).optional() }),
        ])
        .optional()
        .describe('On finish_reason "length", call again (default { maxAttempts: 3, maxTotalTokens: 32000 }); false turns it off'),
      timeoutMs: z.number().int().min(1).max(maxTimeoutMs).optional().describe(`The session's deadline in ms, queue wait included (at most ${maxTimeoutMs})`),
    })
    .refine((args) => args.prompt !== undefined || args.messages !== undefined, { message: 'expected `prompt` or `messages`, got neither' });
}

/** One schema per cap (an HTTP server builds a server per MCP session). */
const byMaxTimeout = new Map<number, ReturnType<typeof buildChatInputSchema>>();

export const chatInputSchema = chatInputSchemaFor(DEFAULT_MAX_TIMEOUT_MS);

export type ChatToolInput = z.output<typeof chatInputSchema>;

/** Open-ended parts are JSON (not "anything"), so that the advertised schema still says what they are. */
const errorShape = z.object({ code: z.string(), message: z.string() }).catchall(z.json());

/**
 * The engine's ChatResult, as it is: the fields named here are checked, and the result's others
 * (served id, created, choices, usage details, response metadata, …) pass as they are.
 */
export const chatOutputSchema = z.looseObject({
  provider: z.string(),
  model: z.string(),
  content: z.string(),
  finishReason: z.string(),
  usage: z.looseObject({
    promptTokens: z.number(),
    completionTokens: z.number(),
    totalTokens: z.number(),
    cachedTokens: z.number().optional(),
  }),
  reasoningContent: z.string().optional(),
  webSearch: z.array(z.record(z.string(), z.json())).optional(),
  toolCalls: z
    .array(
      z.looseObject({
        id: z.string().optional(),
        type: z.string().optional(),
        function: z.looseObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
      }),
    )
    .optional(),
  metadata: z
    .object({
      session: z.looseObject({
        sessionId: z.string(),
        requestId: z.string(),
        durationSeconds: z.number(),
        attempts: z.number(),
        crashRetries: z.number().optional(),
      }),
      continuation: z.object({ attempts: z.number(), totalTokens: z.number(), complete: z.boolean(), error: errorShape.optional() }).optional(),
      cache: z.object({ id: z.string().optional(), tokensSaved: z.number().optional(), headers: z.record(z.string(), z.string()) }).optional(),
    })
    .catchall(z.json()),
});
