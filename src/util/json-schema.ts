// Checking JSON against a JSON Schema with zod 4 (`z.fromJSONSchema`). The zod module is passed
// in: the request checks load it anyway, while a worker thread imports it only when a structured
// answer needs checking (the worker bundle leaves it out).
import type { z as Zod } from 'zod';

type ZodModule = typeof Zod;

/** At most this many problems are reported for one answer. */
const MAX_ISSUES = 20;

/** Checks a value against one schema: the problems found, as `path: what`, none when it matches. */
export type SchemaCheck = (value: unknown) => string[];

function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? '(root)' : out;
}

/**
 * The check of a JSON Schema, or a thrown Error when zod cannot read the schema (what it says is
 * wrong). Compiled checks are kept by the schema's JSON text (the last 64).
 */
export function schemaCheck(z: ZodModule, schema: Record<string, unknown>): SchemaCheck {
  const key = JSON.stringify(schema);
  let check = compiled.get(key);
  if (check === undefined) {
    // zod builds object shapes by assignment: a property named `__proto__` would set a prototype, and go unchecked.
    if (key.includes('"__proto__"')) throw new Error('it names `__proto__`, which the check cannot see (a property of that name would go unchecked)');
    const type = z.fromJSONSchema(schema as Parameters<ZodModule['fromJSONSchema']>[0]);
    // A $ref cycle that never reaches a type (`{ "$ref": "#" }`) compiles, then recurses without end on any value.
    try {
      type.safeParse(null);
    } catch (error) {
      if (error instanceof RangeError) throw new Error('its $ref chain never reaches a type (a $ref cycle)');
      throw error;
    }
    check = (value) => {
      const result = type.safeParse(value);
      return result.success ? [] : result.error.issues.slice(0, MAX_ISSUES).map((issue) => `${pathOf(issue.path)}: ${issue.message}`);
    };
    if (compiled.size >= 64) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, check);
  }
  return check;
}

const compiled = new Map<string, SchemaCheck>();

/** An answer's text checked: parsed when it is JSON, with the problems found (`(root): not JSON …` when it is not). */
export function checkAnswer(text: string, check: SchemaCheck | undefined): { parsed?: unknown; issues: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Told by position, not quoted: JSON.parse's message quotes the text, and the issues go into the
    // error's message, which a trace's span status carries although the content is not to be recorded.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    return { issues: [`(root): the answer is not JSON${position === undefined ? '' : ` (at position ${position})`}`] };
  }
  return { parsed, issues: check === undefined ? [] : check(parsed) };
}
