/**
 * How the mock answers `response_format` requests (pure functions):
 * - openai `{ type: 'json_schema' }`: an instance of the schema (every property, first enum value,
 *   first option of a union, one item per array), as a strict provider would write it;
 * - `{ type: 'json_object' }`: an instance of the JSON Schema found in a system message (where the
 *   engine puts it for Kimi and GLM), else `{"answer": <the generated text>}`;
 * - what the providers refuse (their documented shapes, fixtures/{kimi,glm}/json-mode.json): Kimi
 *   and GLM take only `text` and `json_object`, and Kimi's partial mode is not combined with
 *   `json_object`: both get a 400 `invalid_request_error` here, so a test sees the engine never sends them.
 * A behaviour's `content` still wins over all of this.
 */
import { messageText } from './behaviour.ts';
import type { MockDialect, MockMessage, MockRequestBody } from './types.ts';

type Schema = Record<string, unknown>;

const asSchema = (value: unknown): Schema | undefined => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Schema) : undefined);

/** The `response_format.type` of a request body, when it names one. */
export function responseFormatType(body: MockRequestBody): string | undefined {
  const type = asSchema(body['response_format'])?.['type'];
  return typeof type === 'string' ? type : undefined;
}

/** Why the dialect refuses this request's `response_format`, or undefined when it takes it. */
export function refusedResponseFormat(dialect: MockDialect, body: MockRequestBody, messages: readonly MockMessage[]): string | undefined {
  const type = responseFormatType(body);
  if (type === undefined || dialect === 'openai') return undefined;
  if (type !== 'text' && type !== 'json_object') return `response_format.type must be "text" or "json_object", got "${type}"`;
  if (dialect === 'kimi' && type === 'json_object' && messages.some((m) => m.role === 'assistant' && m.partial === true)) {
    return 'partial mode cannot be combined with response_format json_object';
  }
  return undefined;
}

/** The answer text of a structured request (JSON), or undefined for a request that asked for none. */
export function structuredContent(body: MockRequestBody, messages: readonly MockMessage[], generated: string): string | undefined {
  const format = asSchema(body['response_format']);
  if (format?.['type'] === 'json_schema') {
    const schema = asSchema(asSchema(format['json_schema'])?.['schema']);
    return spaced(schema === undefined ? { answer: generated } : instanceOf(schema, schema, 0));
  }
  if (format?.['type'] !== 'json_object') return undefined;
  const schema = schemaInSystemMessages(messages);
  return spaced(schema === undefined ? { answer: generated } : instanceOf(schema, schema, 0));
}

/** JSON with a space after each `{`, `[`, `,` and `:` (so a stream of it has several pieces). */
function spaced(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ');
}

/** The first JSON Schema (an object with `type` or `properties`) written in a system message. */
export function schemaInSystemMessages(messages: readonly MockMessage[]): Schema | undefined {
  for (const message of messages) {
    if (message.role !== 'system') continue;
    const text = messageText(message.content);
    const end = text.lastIndexOf('}');
    for (let start = text.indexOf('{'); start !== -1 && start < end; start = text.indexOf('{', start + 1)) {
      try {
        const schema = asSchema(JSON.parse(text.slice(start, end + 1)));
        if (schema !== undefined && ('type' in schema || 'properties' in schema)) return schema;
      } catch {
        // not JSON from here: try the next brace
      }
    }
  }
  return undefined;
}

function resolve(ref: string, root: Schema): Schema | undefined {
  if (ref === '#') return root;
  const path = ref
    .replace(/^#\//, '')
    .split('/')
    .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'));
  let at: unknown = root;
  for (const part of path) at = asSchema(at)?.[part];
  return asSchema(at);
}

/** A value that the schema accepts (the common keywords of structured outputs). */
export function instanceOf(schema: Schema, root: Schema, depth: number): unknown {
  if (depth > 8) return null;
  if (typeof schema['$ref'] === 'string') {
    const target = resolve(schema['$ref'], root);
    return target === undefined ? null : instanceOf(target, root, depth + 1);
  }
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum'])) return schema['enum'][0] ?? null;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = Array.isArray(schema[key]) ? (schema[key] as unknown[]).map(asSchema).filter((s) => s !== undefined) : [];
    const chosen = options.find((s) => s['type'] !== 'null') ?? options[0];
    if (chosen !== undefined) return instanceOf(chosen, root, depth + 1);
  }
  const types = Array.isArray(schema['type']) ? (schema['type'] as unknown[]) : [schema['type']];
  const type = types.find((t) => t !== 'null') ?? types[0] ?? (schema['properties'] !== undefined ? 'object' : undefined);
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(asSchema(schema['properties']) ?? {})) {
        const sub = asSchema(property);
        if (sub !== undefined) out[name] = instanceOf(sub, root, depth + 1);
      }
      return out;
    }
    case 'array': {
      const items = asSchema(schema['items']);
      const count = Math.max(1, typeof schema['minItems'] === 'number' ? schema['minItems'] : 1);
      return items === undefined ? [] : Array.from({ length: count }, () => instanceOf(items, root, depth + 1));
    }
    case 'string':
      return schema['format'] === 'date' ? '2024-08-06' : schema['format'] === 'date-time' ? '2024-08-06T12:00:00Z' : 'mock';
    case 'integer':
    case 'number': {
      const min = typeof schema['minimum'] === 'number' ? schema['minimum'] : undefined;
      const max = typeof schema['maximum'] === 'number' ? schema['maximum'] : undefined;
      return min !== undefined && min > 1 ? min : max !== undefined && max < 1 ? max : 1;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return 'mock';
  }
}
