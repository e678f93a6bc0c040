/**
 * The JSON-RPC id of a message that cannot be parsed whole (it was too large to keep), read from
 * the ends of its text, so that its sender gets an error it can match to its request instead of
 * waiting for its own timeout. Only a top-level id counts: at the start, after scalar members only;
 * at the end, as the last member (a `}` right after it closes the outer object of valid JSON).
 */

type Id = string | number;

const STRING = String.raw`"(?:[^"\\]|\\.)*"`;
const SCALAR = String.raw`(?:${STRING}|-?[\d.eE+-]+|true|false|null)`;
const ID_VALUE = String.raw`(-?\d+|${STRING})`;
const AT_START = new RegExp(String.raw`^\s*\{(?:\s*${STRING}\s*:\s*${SCALAR}\s*,)*?\s*"id"\s*:\s*${ID_VALUE}\s*[,}]`);
const AT_END = new RegExp(String.raw`[,{]\s*"id"\s*:\s*${ID_VALUE}\s*\}\s*$`);

export function idFromEnds(head: string, tail: string): Id | null {
  const match = AT_START.exec(head) ?? AT_END.exec(tail);
  if (match?.[1] === undefined) return null;
  try {
    return JSON.parse(match[1]) as Id;
  } catch {
    return null;
  }
}

/** The id of a parsed value that is not a valid message, when it has one of a valid type. */
export function idOf(value: unknown): Id | null {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null;
  const { id } = value;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}
