// The one scrubbing path: every string that leaves the engine goes through a Redactor built from
// the secrets it knows (API keys, the values of secret-looking headers). The worker scrubs answer
// text as it streams (a key split across chunks is still caught: the tail that could begin a key
// is held back until the next chunk tells); the supervisor scrubs everything a worker sends back.
// Shared by both sides, so it imports neither.

/** Header names whose values are credentials. */
const SECRET_HEADER = /auth|key|token|secret|cookie|password|signature|credential|session/i;
/** Shorter strings are not scrubbed: they would blank ordinary words. */
const MIN_SECRET_LENGTH = 6;
export const REDACTED = '[redacted]';

/** The credentials of a provider: its key and the values of its secret-looking headers. */
export function providerSecrets(provider: { apiKey?: string | undefined; headers?: Record<string, string> | undefined }): string[] {
  const secrets = provider.apiKey !== undefined ? [provider.apiKey] : [];
  for (const [name, value] of Object.entries(provider.headers ?? {})) if (SECRET_HEADER.test(name)) secrets.push(value);
  return secrets;
}

export class Redactor {
  readonly #secrets: string[];

  constructor(secrets: Iterable<string | undefined>) {
    const kept = new Set<string>();
    for (const secret of secrets) if (typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH) kept.add(secret);
    // Longest first, so that a key containing another is blanked whole.
    this.#secrets = [...kept].sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.#secrets.length === 0;
  }

  text(text: string): string {
    let out = text;
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    return out;
  }

  /**
   * Plain data (objects, arrays) with every string scrubbed; other values are kept as they are.
   * Copy on write: what holds no secret comes back as the same object, so the common case allocates nothing.
   */
  deep<T>(value: T): T {
    if (this.#secrets.length === 0) return value;
    return this.#deep(value, 0) as T;
  }

  #deep(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value !== 'object' || value === null || depth > 64) return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const scrubbed = this.#deep(item, depth + 1);
        if (scrubbed !== item) (copy ??= value.slice())[i] = scrubbed;
      }
      return copy ?? value;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value;
    const record = value as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const item = record[key];
      const scrubbed = this.#deep(item, depth + 1);
      if (scrubbed !== item) (copy ??= { ...record })[key] = scrubbed;
    }
    return copy ?? value;
  }

  /** The length of the longest tail of `text` that begins some secret (held back while streaming). */
  heldTail(text: string): number {
    let longest = 0;
    for (const secret of this.#secrets) {
      for (let n = Math.min(secret.length - 1, text.length); n > longest; n--) {
        if (text.endsWith(secret.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}

/** Scrubs a stream of text pieces: what `push` returns is safe to show; `flush` returns the rest. */
export class StreamRedactor {
  readonly #redactor: Redactor;
  #held = '';

  constructor(redactor: Redactor) {
    this.#redactor = redactor;
  }

  push(piece: string): string {
    if (this.#redactor.empty) return piece;
    const text = this.#redactor.text(this.#held + piece);
    const held = this.#redactor.heldTail(text);
    this.#held = text.slice(text.length - held);
    return text.slice(0, text.length - held);
  }

  flush(): string {
    const rest = this.#held;
    this.#held = '';
    return rest;
  }

  /** Forgets the held text (its attempt failed and is tried again). */
  drop(): void {
    this.#held = '';
  }
}

// URLs as operators write them: `scheme://user:password@host/...`, the password often not
// percent-encoded (`/`, `@`, `#`, `?`, `%`, anything). A URL parser ends the authority at the first
// `/`, `?` or `#`, and so did a pattern that stopped at `/`: both then quote the rest of the
// password. Here a URL's credentials are everything from `//` to its LAST `@`: more than needed
// when a path holds an `@`, never less. Every place that quotes a URL goes through these.

/** What stands for a URL's whole `user:password@` part (the user too: where it ends is unsure in a URL written by hand). */
export const URL_CREDENTIALS = '[credentials]';
// WHATWG's parser (new URL, fetch, the SDK) also starts the authority of http, https, ws, wss and
// ftp URLs after any run of `/` and `\`, none included: `https:\\user:pw@host`, `https:/user:pw@host`
// and `https:user:pw@host` all carry credentials, so they are read as URLs here too.
const SCHEME = /^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/|(?:https?|wss?|ftp):[\\/]*)/i;
/** A URL inside free text: a scheme, then everything up to the last `@` before a blank. */
const URL_WITH_CREDENTIALS = /([A-Za-z][A-Za-z0-9+.-]*:\/\/|\b(?:https?|wss?|ftp):[\\/]*)\S*@/gi;

/** A URL split at its credentials: `rest` is what follows the last `@` (host, port, path). */
export interface URLParts {
  scheme: string;
  /** `user:password` exactly as written (absent without an `@`). */
  userinfo?: string;
  rest: string;
}

/** Splits a URL written by hand at the last `@`, so that an unencoded password stays whole. */
export function splitURL(url: string): URLParts | undefined {
  const scheme = SCHEME.exec(url)?.[0];
  if (scheme === undefined) return undefined;
  const at = url.lastIndexOf('@');
  if (at < scheme.length) return { scheme, rest: url.slice(scheme.length) };
  return { scheme, userinfo: url.slice(scheme.length, at), rest: url.slice(at + 1) };
}

/** The value of a URL option, safe to quote: its credentials (user and password) replaced. */
export function quoteURL(url: string): string {
  const parts = splitURL(url);
  if (parts === undefined) return url.includes('@') ? `${URL_CREDENTIALS}@${url.slice(url.lastIndexOf('@') + 1)}` : url;
  return parts.userinfo === undefined ? url : `${parts.scheme}${URL_CREDENTIALS}@${parts.rest}`;
}

/** Free text (an error message, a log line) with the credentials of every URL in it replaced. */
export function scrubURLs(text: string): string {
  return text.includes('@') ? text.replace(URL_WITH_CREDENTIALS, `$1${URL_CREDENTIALS}@`) : text;
}

/** `%XX` decoded when it can be; a lone `%` is a literal one, as written. */
export function decodeURIPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * The credentials of a URL in every form a message may quote them: as written, decoded, and
 * percent-encoded (as a URL parser serialises them), the password alone and with its user.
 */
export function urlSecrets(url: string): string[] {
  const userinfo = splitURL(url)?.userinfo;
  if (userinfo === undefined || userinfo === '') return [];
  const colon = userinfo.indexOf(':');
  const password = colon < 0 ? undefined : userinfo.slice(colon + 1);
  const secrets = [userinfo, decodeURIPart(userinfo)];
  if (password !== undefined && password !== '') {
    const plain = decodeURIPart(password);
    secrets.push(password, plain, encodeURIComponent(plain), serialisedPassword(plain));
  }
  return secrets;
}

/** The password as `new URL()` writes it back (its own percent-encoding set). */
function serialisedPassword(password: string): string {
  const url = new URL('http://host');
  url.password = password;
  return url.password;
}
