// What a completion body says beyond the answer text, kept as the server sent it: the head fields
// (id, created, served model, system_fingerprint, service_tier), every choice with its message,
// refusal, annotations and logprobs. A field the server left out stays out; nothing is invented.
import { ProviderResponseError } from '../../errors/errors.ts';
import type { ResponseHead, AssistantMessage, ChatChoice, ToolCall } from '../../types/chat.ts';

type Raw = Record<string, unknown>;

export const asRecord = (value: unknown): Raw | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Raw) : undefined;

/** The head fields present in a completion or chunk. */
export function readHead(raw: Raw): ResponseHead {
  const head: ResponseHead = {};
  if (typeof raw['id'] === 'string') head.id = raw['id'];
  if (typeof raw['created'] === 'number') head.created = raw['created'];
  if (typeof raw['model'] === 'string' && raw['model'] !== '') head.model = raw['model'];
  if ('system_fingerprint' in raw) head.systemFingerprint = stringOrNull(raw['system_fingerprint']);
  if ('service_tier' in raw) head.serviceTier = stringOrNull(raw['service_tier']);
  return head;
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** A 200 body that holds only `error` (some gateways do this): its own message, not "no choices". */
export function errorInBody(raw: Raw, provider: string): ProviderResponseError | undefined {
  const error = asRecord(raw['error']);
  if (error === undefined || Array.isArray(raw['choices'])) return undefined;
  const message = typeof error['message'] === 'string' ? error['message'] : JSON.stringify(error);
  const code = error['code'] ?? error['type'];
  return new ProviderResponseError(
    `${provider} answered 200 with an error: ${message}`,
    {},
    false,
    code === undefined || code === null ? undefined : String(code),
  );
}

/** Every choice of a non-streamed completion, messages as sent (plain JSON already). */
export function readChoices(raw: Raw): ChatChoice[] {
  const list = Array.isArray(raw['choices']) ? raw['choices'] : [];
  const choices: ChatChoice[] = [];
  list.forEach((item: unknown, position) => {
    const choice = asRecord(item);
    const message = asRecord(choice?.['message']);
    if (choice === undefined || message === undefined) return;
    const read: ChatChoice = {
      index: typeof choice['index'] === 'number' ? choice['index'] : position,
      message: { ...message, role: 'assistant', content: typeof message['content'] === 'string' ? message['content'] : null } as AssistantMessage,
      finishReason: typeof choice['finish_reason'] === 'string' ? choice['finish_reason'] : null,
    };
    if ('logprobs' in choice) read.logprobs = (choice['logprobs'] ?? null) as ChatChoice['logprobs'];
    choices.push(read);
  });
  return choices;
}

/** The first choice's fields a result lifts to its top level; absent ones stay absent. */
export function firstChoiceFields(choice: ChatChoice | undefined): { refusal?: string | null; annotations?: unknown[]; logprobs?: ChatChoice['logprobs'] } {
  const out: { refusal?: string | null; annotations?: unknown[]; logprobs?: ChatChoice['logprobs'] } = {};
  if (choice === undefined) return out;
  if ('refusal' in choice.message) out.refusal = stringOrNull(choice.message.refusal);
  if (Array.isArray(choice.message.annotations)) out.annotations = choice.message.annotations;
  if ('logprobs' in choice) out.logprobs = choice.logprobs ?? null;
  return out;
}

/** Tool calls as sent: only arrays of objects, nothing filled in. */
export function readToolCalls(raw: unknown): ToolCall[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  return raw.filter((call) => asRecord(call) !== undefined) as ToolCall[];
}

/** A streamed tool call being assembled from its deltas: only the fields a delta carried. */
export type ToolCallDraft = { id?: string; type?: string; function?: { name?: string; arguments?: string }; [field: string]: unknown };

/** The highest tool-call index a stream may name: the drafts are an array indexed by it. */
const MAX_TOOL_CALL_INDEX = 1023;

export function mergeToolCallDelta(drafts: ToolCallDraft[], delta: Raw): { index: number; id?: string; name?: string; arguments?: string } {
  const index = typeof delta['index'] === 'number' ? delta['index'] : drafts.length;
  // An index of 1e9 would make the drafts a sparse array that every later pass walks a billion times over.
  if (!Number.isInteger(index) || index < 0 || index > MAX_TOOL_CALL_INDEX) {
    throw new ProviderResponseError(`the provider streamed a tool call at index ${index} (expected a whole number from 0 to ${MAX_TOOL_CALL_INDEX})`);
  }
  const fn = asRecord(delta['function']);
  const draft = (drafts[index] ??= {});
  const part: { index: number; id?: string; name?: string; arguments?: string } = { index };
  if (typeof delta['id'] === 'string') draft.id = part.id = delta['id'];
  if (typeof delta['type'] === 'string') draft.type = delta['type'];
  if (fn !== undefined) {
    const target = (draft.function ??= {});
    if (typeof fn['name'] === 'string') {
      target.name = (target.name ?? '') + fn['name'];
      part.name = fn['name'];
    }
    if (typeof fn['arguments'] === 'string') {
      target.arguments = (target.arguments ?? '') + fn['arguments'];
      part.arguments = fn['arguments'];
    }
  }
  return part;
}
