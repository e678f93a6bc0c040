// The one serialisation a job's signature covers. A job crosses Redis as JSON and comes back with
// its keys in whatever order the producer's objects had; signing those bytes would tie the
// signature to that order. So both ends sign this form instead: JSON.stringify's own semantics
// (toJSON, undefined members left out, undefined in arrays as null, non-finite numbers as null),
// object keys sorted by UTF-16 code units, no whitespace. Every string and number is written by
// JSON.stringify itself, so a value and its JSON round trip have the same canonical form.

/** Deeper than this is no job a producer builds: refused rather than risking the stack. */
const MAX_DEPTH = 256;

export class CanonicalJSONError extends Error {}

export function canonicalJSON(value: unknown): string {
  const out: string[] = [];
  write(value, out, 0);
  return out.join('');
}

function write(input: unknown, out: string[], depth: number): void {
  const value = toJSONValue(input);
  if (value === null || typeof value !== 'object') {
    out.push(leaf(value) ?? 'null');
    return;
  }
  if (depth >= MAX_DEPTH) throw new CanonicalJSONError(`expected JSON nested at most ${MAX_DEPTH} levels deep`);
  if (Array.isArray(value)) return writeArray(value, out, depth);
  const keys = Object.keys(value).sort();
  out.push('{');
  let first = true;
  for (const key of keys) {
    const member = toJSONValue((value as Record<string, unknown>)[key]);
    if (leaf(member) === undefined) continue;
    out.push(first ? '' : ',', JSON.stringify(key), ':');
    first = false;
    write(member, out, depth + 1);
  }
  out.push('}');
}

function writeArray(values: readonly unknown[], out: string[], depth: number): void {
  out.push('[');
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out.push(',');
    write(values[i], out, depth + 1);
  }
  out.push(']');
}

function toJSONValue(value: unknown): unknown {
  const withToJSON = value as { toJSON?: unknown } | null;
  return typeof withToJSON === 'object' && withToJSON !== null && typeof withToJSON.toJSON === 'function' ? (withToJSON.toJSON as () => unknown)() : value;
}

/** A primitive's JSON text; undefined for what JSON leaves out of objects (undefined, functions, symbols). Objects pass as ''. */
function leaf(value: unknown): string | undefined {
  if (typeof value === 'bigint') throw new CanonicalJSONError('expected JSON data, got a BigInt');
  if (value !== null && typeof value === 'object') return '';
  return JSON.stringify(value);
}
