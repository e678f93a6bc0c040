/** One McpServer with sessionpool's three tools; a transport connects to it (one per MCP session over HTTP). */
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ProviderConfig, Supervisor } from '../../api/public.ts';
import { chatInputSchemaFor, chatOutputSchema, DEFAULT_MAX_TIMEOUT_MS } from './chat-schema.ts';
import { chatTool } from './chat-tool.ts';
import { type KeyVariables, missingKeyError } from './config.ts';
import { budgetOf } from './input-budget.ts';
import { describeProviders } from './provider-list.ts';
import { jsonResult } from './tool-result.ts';

export interface ToolContext {
  supervisor: Supervisor;
  /** Providers as configured (keys included: only `hasKey` ever leaves). */
  providers: Record<string, ProviderConfig>;
  defaultProvider: string;
  /** Where each provider's key comes from when the config says so (McpConfig.keyEnv); default: the built-in variables. */
  keyEnv?: KeyVariables;
  version: string;
  /** The largest `timeoutMs` a `chat` call may ask for (larger ones are refused as invalid arguments). @default 600_000 */
  maxTimeoutMs?: number;
  /** Call input (prompts, messages) in progress at once, in bytes, over every session on this supervisor; a call beyond it gets ERR_QUEUE_FULL. @default 268_435_456 */
  maxInputBytesInFlight?: number;
}

const providersOutput = z.object({
  defaultProvider: z.string(),
  providers: z.array(
    z.object({
      name: z.string(),
      dialect: z.string(),
      baseURL: z.string(),
      defaultModel: z.string(),
      hasKey: z.boolean(),
      keyEnv: z.array(z.string()),
      isDefault: z.boolean(),
    }),
  ),
});

const latency = z.object({ count: z.number(), p50: z.number(), p95: z.number(), p99: z.number(), max: z.number() });

/** SupervisorStats; fields added to it later pass as JSON. */
const statsOutput = z
  .object({
    states: z.record(z.string(), z.number()),
    queued: z.number(),
    admitted: z.number(),
    completed: z.number(),
    failed: z.number(),
    timedOut: z.number(),
    aborted: z.number(),
    crashed: z.number(),
    retried: z.number(),
    rejected: z.object({ invalid: z.number(), queueFull: z.number(), closed: z.number(), budget: z.number() }),
    latencyMs: latency.extend({ byProvider: z.record(z.string(), latency) }),
    pool: z.object({ threads: z.number(), running: z.number(), utilization: z.number() }),
  })
  .catchall(z.json());

export function createMcpServer(context: ToolContext): McpServer {
  const server = new McpServer(
    { name: 'sessionpool', title: 'sessionpool', version: context.version },
    {
      instructions:
        'Calls LLM providers (Kimi, GLM, OpenAI-compatible) as supervised sessions: `chat` answers, `providers` lists what is configured, `stats` shows the pool.',
    },
  );
  server.registerTool(
    'chat',
    {
      title: 'Chat with an LLM provider',
      description:
        'One chat completion as a supervised session (deadline, retries, continuation of cut answers). Give `prompt` or `messages`. ' +
        'Send a progress token to receive the answer as it streams. Failures come back with isError and the error code (ERR_PROVIDER, ERR_SESSION_TIMEOUT, ...).',
      inputSchema: chatInputSchemaFor(context.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS),
      outputSchema: chatOutputSchema,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    chatTool(
      context.supervisor,
      context.defaultProvider,
      (provider) => missingKeyError(provider, context.providers, context.keyEnv),
      budgetOf(context.supervisor, context.maxInputBytesInFlight),
    ),
  );
  server.registerTool(
    'providers',
    {
      title: 'Configured providers',
      description: 'The providers this server can call, their default models and whether a key is configured (never the key).',
      inputSchema: z.object({}),
      outputSchema: providersOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      jsonResult({
        defaultProvider: context.defaultProvider,
        providers: describeProviders(context.providers, context.defaultProvider, process.env, context.keyEnv),
      }),
  );
  server.registerTool(
    'stats',
    {
      title: 'Session statistics',
      description: "The supervisor's stats: sessions per state, outcomes, retries, rejections, latency percentiles, pool use.",
      inputSchema: z.object({}),
      outputSchema: statsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => jsonResult(context.supervisor.stats() as unknown as Record<string, unknown>),
  );
  return server;
}
