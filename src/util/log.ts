import { pino, type Logger } from 'pino';

/** Paths pino blanks out, whatever a caller logs by mistake. */
export const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'provider.apiKey',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'authorization',
  'Authorization',
];

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * SESSIONPOOL_LOG_LEVEL, or 'warn' when unset or empty. A level pino does not know is refused as the
 * operator's mistake (exit 2 from the CLI, naming the variable): pino's own error named no variable,
 * and thrown after `mcp --mock` had started its mock server, the command never ended.
 */
export function logLevel(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['SESSIONPOOL_LOG_LEVEL'];
  if (given === undefined || given === '') return 'warn';
  if (LEVELS.includes(given)) return given;
  const shown = JSON.stringify(given.length > 40 ? `${given.slice(0, 40)}…` : given);
  throw Object.assign(new Error(`SESSIONPOOL_LOG_LEVEL: expected one of ${LEVELS.join(', ')}, got ${shown}`), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** The default logger: warnings and errors as JSON on stderr; SESSIONPOOL_LOG_LEVEL changes the level. */
export function defaultLogger(): Logger {
  return pino({ name: 'sessionpool', level: logLevel(), redact: REDACT_PATHS }, pino.destination(2));
}

/** Replaces every occurrence of the secrets in `text`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4 && out.includes(secret)) out = out.replaceAll(secret, '[redacted]');
  return out;
}
