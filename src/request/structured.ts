// The checks of a request's structured output: the `responseFormat` of type `json_schema`, its
// `structuredRetries`, and what a JSON answer cannot be combined with (continuation of a cut
// answer; Kimi's partial mode, which the provider forbids with `json_object`).
import { z } from 'zod';
import { InvalidRequestError } from '../errors/errors.ts';
import type { ResolvedProvider } from '../wire/protocol.ts';
import { isJsonFormat, jsonSchemaOf, structuredSupport } from '../wire/structured.ts';
import { schemaCheck } from '../util/json-schema.ts';
import { describeValue, nonNegativeInt } from '../util/validation.ts';

/** The schema field of `structuredRetries`. */
export const structuredRetriesField = nonNegativeInt(5).optional();

function invalid(issue: string): never {
  throw new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The `json_schema` object of a `responseFormat`: a name, and a schema the worker can check answers against. */
function checkJsonSchema(spec: NonNullable<ReturnType<typeof jsonSchemaOf>>, provider: ResolvedProvider): void {
  const where = '`responseFormat.json_schema';
  if (typeof spec.name !== 'string' || !NAME.test(spec.name)) {
    invalid(`${where}.name\`: expected 1 to 64 letters, digits, \`_\` or \`-\`, got ${describeValue(spec.name)}`);
  }
  if (spec.description !== undefined && typeof spec.description !== 'string')
    invalid(`${where}.description\`: expected a string, got ${describeValue(spec.description)}`);
  if (spec.strict !== undefined && spec.strict !== null && typeof spec.strict !== 'boolean')
    invalid(`${where}.strict\`: expected a boolean, got ${describeValue(spec.strict)}`);
  const schema: unknown = spec.schema;
  if (schema === undefined) return;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    invalid(`${where}.schema\`: expected a JSON Schema object, got ${describeValue(schema)}`);
  // Answers are checked against the schema where the provider takes only json_object: it must be readable.
  if (structuredSupport(provider.dialect) === 'json_object') {
    try {
      schemaCheck(z, schema as Record<string, unknown>);
    } catch (error) {
      invalid(`${where}.schema\`: a JSON Schema the engine can check answers against, but ${(error as Error).message}`);
    }
  }
}

export interface StructuredRequest {
  responseFormat?: unknown;
  extra?: Record<string, unknown> | undefined;
  structuredRetries?: number | undefined;
  continuation?: unknown;
  messages?: Array<{ role: string; partial?: boolean | undefined }> | undefined;
}

/**
 * Checks the request's structured output against its provider; says whether the answer is JSON
 * (then continuation is off unless asked for, and refused when asked for).
 */
export function checkStructured(request: StructuredRequest, provider: ResolvedProvider, stream: boolean): { json: boolean } {
  const format = request.responseFormat ?? request.extra?.['response_format'];
  const spec = jsonSchemaOf(request.responseFormat);
  if (spec !== undefined) checkJsonSchema(spec, provider);
  if (request.structuredRetries !== undefined && request.structuredRetries > 0) {
    if (spec === undefined) invalid('`structuredRetries`: answers are checked against a JSON schema only; expected a `responseFormat` of type "json_schema"');
    if (stream) invalid('`structuredRetries`: a streamed answer is out before it can be checked; expected 0 with stream() or onDelta');
  }
  const json = isJsonFormat(format);
  if (!json) return { json };
  if (request.continuation !== undefined && request.continuation !== false) {
    invalid('`continuation`: a JSON answer cut at `length` cannot be continued; expected `continuation: false` (or none) with a JSON `responseFormat`');
  }
  if (provider.dialect === 'kimi' && request.messages?.some((m) => m.role === 'assistant' && m.partial === true)) {
    invalid('`messages`: Kimi forbids partial mode (`partial: true`) with a JSON `response_format`; expected no partial message');
  }
  return { json };
}
