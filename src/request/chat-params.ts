// The typed sampling parameters of a chat request: their schema, their wire names, and the rule
// that `extra` may not take over a field the engine or a typed option owns.
import { z } from 'zod';
import { InvalidRequestError } from '../errors/errors.ts';
import { nonNegativeInt, positiveInt } from '../util/validation.ts';

const penalty = z.number().min(-2).max(2);

/** Schema fields of the typed parameters (spread into the request schema). */
export const parameterFields = {
  maxCompletionTokens: positiveInt(1_000_000).optional(),
  topP: z.number().min(0).max(1).optional(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).optional(),
  seed: z.number().int().optional(),
  responseFormat: z.looseObject({ type: z.string().min(1) }).optional(),
  parallelToolCalls: z.boolean().optional(),
  reasoningEffort: z.string().min(1).optional(),
  user: z.string().optional(),
  presencePenalty: penalty.optional(),
  frequencyPenalty: penalty.optional(),
  logitBias: z.record(z.string(), z.number()).optional(),
  logprobs: z.boolean().optional(),
  topLogprobs: nonNegativeInt(20).optional(),
  n: positiveInt(128).optional(),
  serviceTier: z.string().min(1).optional(),
};

type ParameterName = keyof typeof parameterFields;

/** Wire names of the typed parameters (the older two are shaped by the dialects themselves). */
export const WIRE_NAMES: Readonly<Record<ParameterName | 'temperature' | 'maxOutputTokens' | 'tools' | 'toolChoice', string>> = {
  temperature: 'temperature',
  maxOutputTokens: 'max_tokens',
  tools: 'tools',
  toolChoice: 'tool_choice',
  maxCompletionTokens: 'max_completion_tokens',
  topP: 'top_p',
  stop: 'stop',
  seed: 'seed',
  responseFormat: 'response_format',
  parallelToolCalls: 'parallel_tool_calls',
  reasoningEffort: 'reasoning_effort',
  user: 'user',
  presencePenalty: 'presence_penalty',
  frequencyPenalty: 'frequency_penalty',
  logitBias: 'logit_bias',
  logprobs: 'logprobs',
  topLogprobs: 'top_logprobs',
  n: 'n',
  serviceTier: 'service_tier',
};

/** Body fields only the engine sets: what it sends, how it streams, how many choices it reads. */
export const ENGINE_OWNED = ['model', 'messages', 'stream', 'stream_options', 'n'] as const;

function invalid(issue: string): never {
  throw new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
}

/** The typed parameters that are set, under their wire names. */
export function parameterBody(request: Partial<Record<ParameterName, unknown>>): Record<string, unknown> | undefined {
  let body: Record<string, unknown> | undefined;
  for (const name of Object.keys(parameterFields) as ParameterName[]) {
    const value = request[name];
    if (value !== undefined) (body ??= {})[WIRE_NAMES[name]] = value;
  }
  return body;
}

/** Refuses `extra` keys the engine owns, and keys that a typed option set in the same request also sets. */
export function checkExtra(extra: Record<string, unknown> | undefined, request: Record<string, unknown>): void {
  if (extra === undefined) return;
  for (const key of Object.keys(extra)) {
    if ((ENGINE_OWNED as readonly string[]).includes(key)) {
      const typed = key === 'n' ? ' (use the `n` option)' : key === 'model' || key === 'messages' ? ` (use the \`${key}\` option)` : '';
      invalid(`\`extra.${key}\`: the engine sets this body field; expected it to be left out of \`extra\`${typed}`);
    }
    const option = (Object.keys(WIRE_NAMES) as (keyof typeof WIRE_NAMES)[]).find((name) => WIRE_NAMES[name] === key && request[name] !== undefined);
    if (option !== undefined) invalid(`\`extra.${key}\`: also set by the \`${option}\` option; expected one of the two`);
  }
}

/** `n > 1` yields several choices; what follows only the first one is refused rather than cut. */
export function checkChoices(request: { n?: number | undefined; continuation?: unknown; webSearch?: unknown }, stream: boolean): void {
  if (request.n === undefined || request.n === 1) return;
  const got = `got n = ${request.n}`;
  if (stream) invalid(`\`n\`: streaming returns one choice; expected 1 with stream() or onDelta, ${got}`);
  if (request.webSearch) invalid(`\`n\`: web search follows one choice; expected 1 with \`webSearch\`, ${got}`);
  if (request.continuation !== undefined && request.continuation !== false) {
    invalid(`\`n\`: continuation follows one choice; expected 1 with \`continuation\`, or continuation: false, ${got}`);
  }
}
