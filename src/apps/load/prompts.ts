// The prompts of a run: synthetic ones of a given length, or lines of a JSONL file.
import { MAX_PROMPT_FILE_BYTES, readTextFileSync } from '../cli/bounded-read.ts';
import { z } from 'zod';
import { describeJsonSyntaxError, jsonSyntaxError } from '../cli/json-syntax.ts';
import { InvalidRequestError } from '../../api/public.ts';
import { chatRequestSchema, formatIssue, positiveInt } from '../../api/internal.ts';
import type { Prompt, PromptMessages } from './plan.ts';

const FILLER = (
  'the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches ' + 'under pale moonlight near old stone bridges and rivers'
).split(' ');

/** How many distinct synthetic prompts a run cycles through (each differs, so no provider cache serves them all). */
const SYNTHETIC_VARIANTS = 64;

/**
 * Prompts of `inputTokens` words (a word is about a token in English; the provider's usage gives the
 * real count) asking for about `outputTokens` words, with `max_tokens` set to `outputTokens`.
 */
export function syntheticPrompts(inputTokens: number, outputTokens: number): Prompt[] {
  const prompts: Prompt[] = [];
  for (let v = 0; v < SYNTHETIC_VARIANTS; v++) {
    const words = `Request ${v + 1}: write about ${outputTokens} words continuing this text.`.split(' ');
    for (let i = 0; words.length < inputTokens; i++) words.push(FILLER[(i + v) % FILLER.length]!);
    prompts.push({ messages: [{ role: 'user', content: words.slice(0, Math.max(1, inputTokens)).join(' ') }], maxOutputTokens: outputTokens });
  }
  return prompts;
}

// Messages are checked with the engine's own schema, so that no request of the run is refused later.
const engineMessages = chatRequestSchema.shape.messages.unwrap();
const promptLine = z.strictObject({ prompt: z.string().min(1), system: z.string().min(1).optional(), maxOutputTokens: positiveInt(1_000_000).optional() });
const messagesLine = z.strictObject({ messages: engineMessages, maxOutputTokens: positiveInt(1_000_000).optional() });

/**
 * Reads a JSONL file: one `{"prompt": "...", "system"?: "...", "maxOutputTokens"?: N}` or
 * `{"messages": [...], "maxOutputTokens"?: N}` per line (blank lines skipped). `outputTokens`, when
 * given, is the `maxOutputTokens` of lines that have none.
 */
export async function readPromptFile(path: string, outputTokens?: number): Promise<Prompt[]> {
  let text: string;
  try {
    text = readTextFileSync(path, MAX_PROMPT_FILE_BYTES);
  } catch (error) {
    throw invalid(`\`prompts\`: cannot read ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
  const prompts: Prompt[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    prompts.push(parseLine(raw, `${path}:${index + 1}`, outputTokens));
  });
  if (prompts.length === 0) throw invalid(`\`prompts\`: ${JSON.stringify(path)} holds no prompt`);
  return prompts;
}

function parseLine(raw: string, where: string, outputTokens: number | undefined): Prompt {
  // Told by line and column, never quoted: a mistaken --prompts .env would show a key.
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    const syntax = jsonSyntaxError(raw);
    throw invalid(`\`prompts\` ${where}: invalid JSON${syntax === undefined ? '' : ` at ${describeJsonSyntaxError(syntax)}`}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw invalid(`\`prompts\` ${where}: expected a JSON object, got ${kind}`);
  }
  // The form is told by its key, so that the issues are about the fields of that form.
  const form = 'messages' in value ? messagesLine : promptLine;
  const parsed = (form as typeof promptLine | typeof messagesLine).safeParse(value, { reportInput: true });
  if (!parsed.success)
    throw invalid(`\`prompts\` ${where}: expected {"prompt": "..."} or {"messages": [...]}: ${parsed.error.issues.map(formatIssue).join('; ')}`);
  const data = parsed.data;
  const messages: PromptMessages =
    'prompt' in data ? [...(data.system ? [{ role: 'system' as const, content: data.system }] : []), { role: 'user', content: data.prompt }] : data.messages;
  const max = data.maxOutputTokens ?? outputTokens;
  return max === undefined ? { messages } : { messages, maxOutputTokens: max };
}

function invalid(issue: string): InvalidRequestError {
  return new InvalidRequestError(`Invalid load options: ${issue}`, [issue]);
}
