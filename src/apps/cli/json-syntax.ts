// Where a JSON text stops being JSON, told by line and column and never by its content. V8's own
// messages quote the text around the mistake ("Unexpected token 's', ..."apiKey": sk-live-12"... is
// not valid JSON"), and in a config file that text can be the start of a key.

export interface JsonSyntaxError {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units from the start of the line. */
  column: number;
  /** What was expected there, in words that quote nothing of the text. */
  what: string;
}

const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Stop {
  readonly at: number;
  readonly what: string;
  constructor(at: number, what: string) {
    this.at = at;
    this.what = what;
  }
}

/** The first syntax error of `text` (undefined when it is JSON). */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (stop) {
    if (!(stop instanceof Stop)) throw stop;
    const before = text.slice(0, stop.at);
    const lineStart = before.lastIndexOf('\n') + 1;
    return { line: before.split('\n').length, column: stop.at - lineStart + 1, what: stop.what };
  }
}

/** `line 3, column 17: expected ',' or '}' after a value`. */
export function describeJsonSyntaxError(error: JsonSyntaxError): string {
  return `line ${error.line}, column ${error.column}: ${error.what}`;
}

class Scanner {
  readonly #t: string;
  #i = 0;

  constructor(text: string) {
    this.#t = text;
  }

  document(): void {
    this.#value(0);
    this.#space();
    if (this.#i < this.#t.length) this.#fail('expected the end of the file after the JSON value');
  }

  #fail(what: string): never {
    throw new Stop(this.#i, this.#i >= this.#t.length ? `${what} (the file ends here)` : what);
  }

  #space(): void {
    while (this.#i < this.#t.length && ' \t\n\r'.includes(this.#t[this.#i] as string)) this.#i++;
  }

  #value(depth: number): void {
    if (depth > MAX_DEPTH) this.#fail(`expected at most ${MAX_DEPTH} nested objects and arrays`);
    this.#space();
    const c = this.#t[this.#i];
    if (c === '{') return this.#container(depth, '}', true);
    if (c === '[') return this.#container(depth, ']', false);
    if (c === '"') return this.#string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.#number();
    for (const word of ['true', 'false', 'null']) {
      if (this.#t.startsWith(word, this.#i)) {
        this.#i += word.length;
        return;
      }
    }
    this.#fail('expected a value (a string in double quotes, a number, true, false, null, an object or an array)');
  }

  #container(depth: number, close: string, object: boolean): void {
    this.#i++;
    this.#space();
    if (this.#t[this.#i] === close) {
      this.#i++;
      return;
    }
    for (;;) {
      if (object) this.#member(depth);
      else this.#value(depth + 1);
      this.#space();
      const c = this.#t[this.#i];
      this.#i++;
      if (c === close) return;
      if (c !== ',') {
        this.#i--;
        this.#fail(`expected ',' or '${close}' after a value`);
      }
    }
  }

  #member(depth: number): void {
    this.#space();
    if (this.#t[this.#i] !== '"') this.#fail('expected a property name in double quotes');
    this.#string();
    this.#space();
    if (this.#t[this.#i] !== ':') this.#fail("expected ':' after a property name");
    this.#i++;
    this.#value(depth + 1);
  }

  #string(): void {
    this.#i++;
    for (;;) {
      const c = this.#t[this.#i];
      if (c === undefined) this.#fail('expected the closing double quote of a string');
      if (c === '"') break;
      if (c < ' ') this.#fail('expected no control character (a line break, a tab) inside a string');
      if (c === '\\') this.#escape();
      else this.#i++;
    }
    this.#i++;
  }

  #escape(): void {
    const next = this.#t[this.#i + 1];
    if (next !== undefined && '"\\/bfnrt'.includes(next)) this.#i += 2;
    else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(this.#t.slice(this.#i + 2, this.#i + 6))) this.#i += 6;
    else this.#fail('expected an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) after a backslash');
  }

  #number(): void {
    NUMBER.lastIndex = this.#i;
    if (!NUMBER.test(this.#t)) this.#fail('expected a number');
    this.#i = NUMBER.lastIndex;
  }
}
