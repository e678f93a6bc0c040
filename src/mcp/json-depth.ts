/**
 * How deep a JSON text nests, read before JSON.parse. V8 parses deeply nested arrays slowly: 3 MB of
 * `[[[[…]]]]` (1.5 million levels) cost 1.2 s of main-thread time, against 13 ms for 2.7 MB of flat
 * JSON, so a client could stall every other client and every deadline timer with one message a
 * second, well under the size limit. No MCP message needs more than a few levels; both transports
 * refuse one deeper than MAX_JSON_DEPTH as a parse error, after this linear scan.
 */

/** Arrays and objects within each other, at most. */
export const MAX_JSON_DEPTH = 100;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/** Whether `text` nests arrays and objects deeper than `max` (strings skipped; the text need not be valid JSON). */
export function nestsDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}
