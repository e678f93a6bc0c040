// What a load run does, validated in full before anything starts: the target, the mode (closed
// loop at fixed concurrency levels, or open loop at request rates), how long each level lasts,
// the requests' shape. Bad input is an ERR_INVALID_REQUEST that names every wrong field.
import { z } from 'zod';
import type { MockBehaviour } from '../mock/types.ts';
import type { ProviderConfig } from '../../api/public.ts';
import { chatRequestSchema, type ChatRequest, positiveInt, parseOrThrow } from '../../api/internal.ts';

/** One prompt of a run: the messages sent, and the answer length asked for. */
export interface Prompt {
  messages: PromptMessages;
  maxOutputTokens?: number;
}

export type PromptMessages = NonNullable<ChatRequest['messages']>;

export interface LoadOptions {
  /** The provider's name, as given to the supervisor. */
  provider: string;
  /** Its configuration (baseURL, apiKey, dialect...): passed to createSupervisor({ providers }). */
  providerConfig?: ProviderConfig;
  model?: string;
  /** Closed loop: sessions kept in flight, one level each. @example [1, 10, 50] */
  concurrency?: number[];
  /** Open loop: requests per second (Poisson arrivals), one level each; excludes `concurrency`. */
  rate?: number[];
  /** Requests per level; excludes `durationMs`. @default 100 when neither is given */
  requests?: number;
  /** Duration of each level: requests are issued until it has passed, then those in flight finish. */
  durationMs?: number;
  /** @default false */
  stream?: boolean;
  /** Prompts, used in turn. */
  prompts: Prompt[];
  /** Requests before the first level, not measured. @default 0 */
  warmup?: number;
  /** Deadline of each request (session). @default 60_000 */
  timeoutMs?: number;
  /** Retries of a failed provider call (the engine's policy). @default 2 */
  retries?: number;
  /** Continuation on `length`: calls in all per request (1: off). @default 1 */
  maxRounds?: number;
  /** Worker threads. @default the engine's */
  threads?: number;
  /** Open loop: sessions in flight at most (more wait in the engine's queue). @default 1024 */
  maxInFlight?: number;
  /** Seed of the open loop's arrivals. @default 1 */
  seed?: number;
  /** Embedded mock only: the behaviour asked of it for every request (sent as the body's `mock` field). */
  mock?: MockBehaviour;
}

const promptSchema = z.strictObject({ messages: chatRequestSchema.shape.messages.unwrap(), maxOutputTokens: positiveInt(1_000_000).optional() });
const levels = (max: number) => z.array(z.number().positive().max(max)).min(1).max(64);

const loadSchema = z
  .strictObject({
    provider: z.string().min(1),
    providerConfig: z.record(z.string(), z.unknown()).optional(),
    model: z.string().min(1).optional(),
    concurrency: levels(100_000)
      .refine((l) => l.every(Number.isInteger), 'expected whole numbers')
      .optional(),
    rate: levels(100_000).optional(),
    requests: positiveInt(100_000_000).optional(),
    durationMs: positiveInt(86_400_000).optional(),
    stream: z.boolean().optional(),
    prompts: z.array(promptSchema).min(1),
    warmup: z.number().int().min(0).max(1_000_000).optional(),
    timeoutMs: positiveInt(86_400_000).optional(),
    retries: z.number().int().min(0).max(20).optional(),
    maxRounds: positiveInt(50).optional(),
    threads: positiveInt(256).optional(),
    maxInFlight: positiveInt(100_000).optional(),
    seed: z.number().int().optional(),
    mock: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((o) => !(o.concurrency && o.rate), { message: 'give `concurrency` or `rate`, not both', path: ['rate'] })
  .refine((o) => !(o.requests && o.durationMs), { message: 'give `requests` or `durationMs`, not both', path: ['durationMs'] });

export interface LoadPlan {
  provider: string;
  providerConfig: ProviderConfig | undefined;
  model: string | undefined;
  mode: 'closed' | 'open';
  /** Concurrency levels (closed) or rates per second (open). */
  levels: number[];
  /** Per level: a number of requests, or a duration. */
  budget: { requests: number } | { durationMs: number };
  stream: boolean;
  prompts: Prompt[];
  warmup: number;
  timeoutMs: number;
  retries: number;
  maxRounds: number;
  threads: number | undefined;
  maxInFlight: number;
  seed: number;
  mock: MockBehaviour | undefined;
}

export const DEFAULT_REQUESTS = 100;

export function resolveLoadPlan(options: LoadOptions): LoadPlan {
  const o = parseOrThrow(loadSchema, options, 'load options');
  return {
    provider: o.provider,
    providerConfig: options.providerConfig,
    model: o.model,
    mode: o.rate ? 'open' : 'closed',
    levels: o.rate ?? o.concurrency ?? [1],
    budget: o.durationMs !== undefined ? { durationMs: o.durationMs } : { requests: o.requests ?? DEFAULT_REQUESTS },
    stream: o.stream ?? false,
    prompts: options.prompts,
    warmup: o.warmup ?? 0,
    timeoutMs: o.timeoutMs ?? 60_000,
    retries: o.retries ?? 2,
    maxRounds: o.maxRounds ?? 1,
    threads: o.threads,
    maxInFlight: o.maxInFlight ?? 1024,
    seed: o.seed ?? 1,
    mock: options.mock,
  };
}

/** `c=10` or `5/s`: how a level is named in tables and charts. */
export function levelLabel(mode: LoadPlan['mode'], level: number): string {
  return mode === 'closed' ? `c=${level}` : `${level}/s`;
}
