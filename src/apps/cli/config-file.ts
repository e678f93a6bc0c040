// The one way the commands read a JSON file the operator wrote (`mcp --config`, `worker --config`).
// A mistake is told by file, line and column, never by quoting the file: the text around a syntax
// error can be the start of a key.
import { MAX_CONFIG_FILE_BYTES, readTextFileSync } from './bounded-read.ts';
import { describeJsonSyntaxError, jsonSyntaxError } from './json-syntax.ts';

/** A config file that cannot be read or is not JSON (an operator's mistake: the CLI exits 2). */
export class ConfigFileError extends Error {
  readonly code = 'ERR_CONFIG_FILE';
}

/** Reads and parses a JSON file; a ConfigFileError names what is wrong without quoting the file. */
export async function readJsonFile(path: string): Promise<unknown> {
  return readJsonFileSync(path);
}

/** readJsonFile for callers that cannot wait (a command's start-up). */
export function readJsonFileSync(path: string): unknown {
  let text: string;
  try {
    text = readTextFileSync(path, MAX_CONFIG_FILE_BYTES);
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseJsonFile(path, text);
}

function unreadable(path: string, error: unknown): ConfigFileError {
  const code = (error as { code?: string }).code;
  return new ConfigFileError(`cannot read ${JSON.stringify(path)} (${code ?? 'unreadable'})`);
}

/** `text` parsed; a syntax error is reported as `FILE: invalid JSON at line L, column C: what was expected`. */
export function parseJsonFile(path: string, text: string): unknown {
  // An editor's byte order mark is not a mistake of the operator's.
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(json);
  } catch {
    const syntax = jsonSyntaxError(json);
    const where = syntax === undefined ? 'invalid JSON' : `invalid JSON at ${describeJsonSyntaxError(syntax)}`;
    throw new ConfigFileError(`${JSON.stringify(path)}: ${where}`);
  }
}
