// Where chat and load take a provider key from. `--api-key KEY` is shown to every user of the
// machine by `ps` and lands in shell history, so the key can also come from a variable named by
// `--api-key-env` or from the first line of `--api-key-file`. None of them is ever quoted back.
import { MAX_SECRET_FILE_BYTES, readTextFileSync } from './bounded-read.ts';
import { headerValueIssue } from '../../api/internal.ts';
import { UsageError } from './usage-error.ts';

export const KEY_OPTIONS = {
  'api-key': { type: 'string' },
  'api-key-env': { type: 'string' },
  'api-key-file': { type: 'string' },
} as const;

export interface KeyFlags {
  'api-key'?: string | undefined;
  'api-key-env'?: string | undefined;
  'api-key-file'?: string | undefined;
}

export const KEY_HELP = `  --api-key-env NAME   read the key from the environment variable NAME
  --api-key-file FILE  read the key from FILE (its only line)
  --api-key KEY        the key itself (other users of the machine see it in ps: prefer the two above)`;

/** The key the flags give (undefined when none does), or a UsageError that names the flag. */
export function keyFromFlags(flags: KeyFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = (['api-key', 'api-key-env', 'api-key-file'] as const).filter((name) => flags[name] !== undefined);
  if (given.length > 1) throw new UsageError(`give one of ${given.map((n) => `--${n}`).join(', ')}, not several`);
  const [flag] = given;
  if (flag === undefined) return undefined;
  const value = flags[flag] as string;
  if (flag === 'api-key') return nonEmpty(flag, value, 'an empty string');
  if (flag === 'api-key-env') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value))
      throw new UsageError(`--api-key-env: expected the name of an environment variable, got ${JSON.stringify(value)}`);
    return nonEmpty(flag, env[value] ?? '', `${value}, which is ${env[value] === undefined ? 'not set' : 'empty'}`);
  }
  return nonEmpty(flag, readKeyFile(value), `${JSON.stringify(value)}, which is empty`);
}

/** The key, or why not: empty, or something no Authorization header can carry (told without quoting it). */
function nonEmpty(flag: string, key: string, got: string): string {
  if (key.trim() === '') throw new UsageError(`--${flag}: expected a key, got ${got}`);
  const issue = headerValueIssue(key);
  if (issue !== undefined) throw new UsageError(`--${flag}: the key ${issue}`);
  return key;
}

function readKeyFile(path: string): string {
  let text: string;
  try {
    text = readTextFileSync(path, MAX_SECRET_FILE_BYTES);
  } catch (error) {
    throw new UsageError(`--api-key-file: cannot read ${JSON.stringify(path)} (${(error as { code?: string }).code ?? 'unreadable'})`);
  }
  // A trailing newline (echo KEY > file) is not part of the key; more lines are a mistake, never shown.
  const key = text.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(key))
    throw new UsageError(`--api-key-file: expected one line (the key) in ${JSON.stringify(path)}, got ${key.split(/\r?\n/).length} lines`);
  return key;
}
