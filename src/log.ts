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

/** The default logger: warnings and errors as JSON on stderr; SESSIONPOOL_LOG_LEVEL changes the level. */
export function defaultLogger(): Logger {
  return pino({ name: 'sessionpool', level: process.env['SESSIONPOOL_LOG_LEVEL'] ?? 'warn', redact: REDACT_PATHS }, pino.destination(2));
}

/** Replaces every occurrence of the secrets in `text`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4 && out.includes(secret)) out = out.replaceAll(secret, '[redacted]');
  return out;
}
