// Where Redis is, as users give it (a `redis://` or `rediss://` URL, or ioredis-style options) and as
// ioredis and BullMQ take it. The password is a credential like an API key: it is kept out of every
// label, log line and error (`redis://:[redacted]@host:6379/0`), and scrubbed from what Redis says.
import { z } from 'zod';
import { InvalidRequestError } from '../../errors/errors.ts';
import { decodeURIPart, REDACTED, Redactor, scrubURLs, splitURL, urlSecrets } from '../../util/redact.ts';
import { describeValue } from '../../util/validation.ts';
import { parseOrThrow } from '../../errors/checks.ts';

/**
 * Where Redis is, as parts (the form ioredis takes); a `redis://` URL says the same. The password is
 * kept out of every label, log line and error message.
 */
export interface RedisConnectionOptions {
  /** Redis's host name or address (an IPv6 address without brackets). @default '127.0.0.1' */
  host?: string;
  /** Redis's TCP port. @default 6379 */
  port?: number;
  /** The ACL user (Redis 6 and later). @default Redis's `default` user */
  username?: string;
  /** The password (`AUTH`). @default none */
  password?: string;
  /** The database number. @default 0 */
  db?: number;
  /** TLS options of node:tls (`true` for the defaults); a `rediss://` URL sets it too. @default false: plain TCP */
  tls?: boolean | Record<string, unknown>;
}

/** A Redis URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS) or its parts. */
export type RedisConnection = string | RedisConnectionOptions;

/**
 * How long a client that was told to disconnect keeps its socket open for Redis to close its end.
 * ioredis waits 2 s by default, holding the process open: a frozen Redis (or a dead link) never
 * closes it, and a worker host that closed would outlive its close() by that much.
 */
export const DISCONNECT_MS = 100;

/** What ioredis and BullMQ are given, with a label that is safe to show. */
export interface ResolvedConnection {
  options: {
    host: string;
    port: number;
    username?: string;
    password?: string;
    db: number;
    tls?: Record<string, unknown>;
    /** ioredis: DISCONNECT_MS. */
    disconnectTimeout: number;
  };
  label: string;
  /** Scrubs the password from any text (errors from the client quote what they were given). */
  redactor: Redactor;
}

const optionsSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65_535).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  db: z.number().int().min(0).max(1_000_000).optional(),
  tls: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
});

function invalid(issue: string): never {
  throw new InvalidRequestError(`Invalid BullMQ transport options: ${issue}`, [issue]);
}

/**
 * Reads a Redis URL as written: the credentials are what stands between `//` and the last `@`, so a
 * password that was not percent-encoded (`/`, `#`, `?`, `@`) is taken whole instead of being read
 * as a path, and no message quotes it (they quote the URL through quoteURL).
 */
function fromURL(text: string): RedisConnectionOptions {
  const expected = () => invalid(`\`connection\`: expected a redis:// or rediss:// URL, got ${describeValue(text)}`);
  const parts = splitURL(text);
  if (parts === undefined) return expected();
  let url: URL;
  try {
    url = new URL(`${parts.scheme}${parts.rest}`);
  } catch {
    return expected();
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') expected();
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) invalid(`\`connection\`: expected a database number after the host (redis://host:6379/0), got "/${db}"`);
  const userinfo = parts.userinfo ?? '';
  const colon = userinfo.indexOf(':');
  const username = colon < 0 ? userinfo : userinfo.slice(0, colon);
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    ...(url.port !== '' ? { port: Number(url.port) } : {}),
    ...(username !== '' ? { username: decodeURIPart(username) } : {}),
    ...(colon >= 0 && colon < userinfo.length - 1 ? { password: decodeURIPart(userinfo.slice(colon + 1)) } : {}),
    ...(db !== '' ? { db: Number(db) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: true } : {}),
  };
}

export function resolveConnection(connection: unknown): ResolvedConnection {
  if (connection === undefined) invalid('`connection`: expected a Redis URL or { host, port, password, tls }, got undefined');
  const given = typeof connection === 'string' ? fromURL(connection) : parseOrThrow(optionsSchema, connection, 'BullMQ transport options (`connection`)');
  const options: ResolvedConnection['options'] = {
    host: given.host ?? '127.0.0.1',
    port: given.port ?? 6379,
    db: given.db ?? 0,
    disconnectTimeout: DISCONNECT_MS,
  };
  if (given.username !== undefined) options.username = given.username;
  if (given.password !== undefined) options.password = given.password;
  if (given.tls !== undefined && given.tls !== false) options.tls = given.tls === true ? {} : given.tls;
  // The password in every form a client or Redis may quote it: as given, decoded, encoded.
  const secrets = [...(typeof connection === 'string' ? urlSecrets(connection) : []), options.password];
  if (options.password !== undefined) secrets.push(encodeURIComponent(options.password));
  return { options, label: labelOf(options), redactor: new Redactor(secrets) };
}

/** `redis://[user:[redacted]@]host:port/db`, `rediss://` with TLS. */
export function labelOf(options: ResolvedConnection['options']): string {
  const auth = options.password !== undefined ? `${options.username ?? ''}:${REDACTED}@` : options.username !== undefined ? `${options.username}@` : '';
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return `${options.tls !== undefined ? 'rediss' : 'redis'}://${auth}${host}:${options.port}/${options.db}`;
}

/** An error message with the Redis password (and anything that quotes the URL) blanked. */
export function scrubRedis(connection: ResolvedConnection, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return scrubURLs(connection.redactor.text(message));
}
