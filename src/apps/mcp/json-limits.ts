/**
 * The shape of a JSON text, read before JSON.parse: some shapes cost V8 far more than their size.
 * Measured on Node 24: 3 MB of nested arrays (1.5 million levels) took 1.2 s of the main thread to
 * parse, an object with 300,000 keys (3.5 MB) 0.7 s and 2-3 s with the SDK's handling after it, 3 MB
 * of a million empty objects 0.5 s; against 13 ms for 2.7 MB of flat JSON. One such message a
 * second from one client would stall every other client and every deadline timer. No MCP message
 * needs any of it: both transports refuse a text past these limits as a parse error, after this
 * linear scan (about 5 ms per MB).
 */

export const JSON_LIMITS = {
  /** Arrays and objects within each other. */
  depth: 100,
  /** Members of one object. */
  keys: 1_000,
  /** Arrays and objects in the whole text. */
  containers: 100_000,
} as const;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * What makes `text` too costly to parse ("JSON nested deeper than 100 levels", ...), or undefined.
 * Strings are skipped; the text need not be valid JSON (JSON.parse judges that afterwards).
 */
export function jsonTooCostly(text: string, limits = JSON_LIMITS): string | undefined {
  // Per open container: -1 for an array, else the commas seen so far in that object.
  const open: number[] = [];
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (open.length === limits.depth) return `JSON nested deeper than ${limits.depth} levels`;
      if (++containers > limits.containers) return `JSON with more than ${limits.containers} arrays and objects`;
      open.push(c === OPEN_BRACE ? 0 : -1);
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      open.pop();
    } else if (c === COMMA && open.length > 0) {
      const last = open.length - 1;
      const commas = open[last] ?? -1;
      if (commas < 0) continue;
      if (commas + 1 >= limits.keys) return `a JSON object with more than ${limits.keys} members`;
      open[last] = commas + 1;
    }
  }
  return undefined;
}
