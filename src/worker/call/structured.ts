// The answer of a request with a JSON schema (`responseFormat` of type `json_schema`): parsed, and
// on a provider that takes only `json_object` (Kimi, GLM) checked against the schema here, on the
// worker. An answer that misses it is asked again with what was wrong (`structuredRetries`, never
// for a stream: its text is out), then fails the session with ERR_PROVIDER_RESPONSE and its issues.
// OpenAI enforces the schema itself: its answer is parsed, not checked (as the openai SDK does).
import { createContext, Script } from 'node:vm';
import { InvalidRequestError, ProviderResponseError } from '../../errors/errors.ts';
import type { ChatMessage } from '../../types/chat.ts';
import type { CallKind } from '../../wire/protocol.ts';
import { checkAnswer, schemaCheck, type SchemaCheck } from '../../util/json-schema.ts';
import { jsonSchemaOf, structuredSupport } from '../../wire/structured.ts';
import { addUsage, type Reading } from '../providers/read.ts';
import { retryTurns } from '../providers/structured.ts';
import type { RoundResult } from './round.ts';

/** What the check needs of the running chat. */
export interface StructuredRun {
  readonly task: {
    provider: { name: string; dialect: Parameters<typeof structuredSupport>[0] };
    call: { stream: boolean; structuredRetries?: number; params?: Record<string, unknown> };
  };
  round(messages: ChatMessage[], kind: CallKind): Promise<RoundResult>;
  /** Forgets the answer text kept so far (an answer asked again replaces it; never streamed). */
  restartText(): void;
}

export interface StructuredAnswer {
  result: RoundResult;
  messages: ChatMessage[];
  /** The answer parsed; absent when there is no schema or the answer is not one to parse. */
  parsed?: unknown;
}

// zod is loaded on the first structured answer only: threads that never check one never pay for it.
let zod: Promise<typeof import('zod')> | undefined;

async function checkOf(schema: Record<string, unknown> | undefined): Promise<SchemaCheck | undefined> {
  if (schema === undefined) return undefined;
  zod ??= import('zod');
  const { z } = await zod;
  try {
    return schemaCheck(z, schema);
  } catch (error) {
    // Checked with the request; a fallback target of another dialect meets it here first.
    const issue = `\`responseFormat.json_schema.schema\`: a JSON Schema the engine can check answers against, but ${(error as Error).message}`;
    throw new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
  }
}

// The check runs under a vm timeout: a schema's `pattern` that backtracks without end on the
// provider's answer (`^(a+)+$` against "aaaa…!") would otherwise hold this thread, and every session
// on it, for good. V8 interrupts a regular expression at the timeout; the check then fails the answer.
let sandbox: { context: object; script: Script } | undefined;

/** Time for one check: a second, and a millisecond more per 2 kB of answer (zod checks 17 MB in about 1 s). */
const checkBudgetMs = (text: string) => 1000 + Math.ceil(text.length / 2000);

/** The check, bounded in time and depth: what it cannot finish is an issue of the answer, never a hung or crashed thread. */
export function boundedCheck(check: SchemaCheck, budgetMs: number): SchemaCheck {
  return (value) => {
    sandbox ??= { context: createContext({}), script: new Script('check(value)') };
    const context = sandbox.context as { check?: SchemaCheck; value?: unknown };
    context.check = check;
    context.value = value;
    try {
      return sandbox.script.runInContext(sandbox.context, { timeout: budgetMs }) as string[];
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        return [`(root): the answer could not be checked against the JSON schema within ${budgetMs} ms (a \`pattern\` that backtracks without end?)`];
      }
      if (error instanceof RangeError) return ['(root): the answer is nested too deeply to check against the JSON schema'];
      throw error;
    } finally {
      context.check = undefined;
      context.value = undefined;
    }
  };
}

/** Whether the answer is one to parse: a text answer that ended on its own (not cut, refused, filtered or a tool call). */
function answered(reading: Reading): boolean {
  const choice = reading.choices[0];
  return reading.finishReason === 'stop' && !reading.toolCalls?.length && typeof choice?.message.refusal !== 'string' && reading.content !== '';
}

export async function structuredAnswer(run: StructuredRun, first: RoundResult, messages: ChatMessage[]): Promise<StructuredAnswer> {
  const { call, provider } = run.task;
  const spec = jsonSchemaOf(call.params?.['response_format']);
  if (spec === undefined || !answered(first.reading)) return { result: first, messages };
  if (structuredSupport(provider.dialect) === 'json_schema') {
    const { parsed, issues } = checkAnswer(first.reading.content, undefined);
    return issues.length === 0 ? { result: first, messages, parsed } : { result: first, messages };
  }
  const check = await checkOf(spec.schema);
  let result = first;
  let usage = first.reading.usage;
  for (let asked = 0; ; asked++) {
    const text = result.reading.content;
    const { parsed, issues } = checkAnswer(text, check === undefined ? undefined : boundedCheck(check, checkBudgetMs(text)));
    if (issues.length === 0) return { result: { ...result, reading: { ...result.reading, usage } }, messages, parsed };
    if (call.stream || asked >= (call.structuredRetries ?? 0)) {
      const what = issues.length === 1 ? 'a problem' : `${issues.length} problems`;
      throw new ProviderResponseError(
        `${provider.name}'s answer does not match the JSON schema (${what}: ${issues.join('; ')})`,
        {},
        false,
        'schema_mismatch',
        issues,
      );
    }
    messages = [...messages, ...retryTurns(result.reading.content, issues)];
    run.restartText();
    result = await run.round(messages, 'structured');
    usage = addUsage(usage, result.reading.usage);
    if (!answered(result.reading)) return { result: { ...result, reading: { ...result.reading, usage } }, messages };
  }
}
