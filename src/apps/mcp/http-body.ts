/**
 * A POST body read and parsed before the MCP transport sees it (which then gets it parsed), so
 * that the server can decide on what it carries first: only an `initialize` may open a session
 * (and make room for one), and a request whose id is in flight in its session is refused. The same
 * bounds and answers as the SDK transport's own reading: at most 4 MiB (413), JSON or 400; and JSON
 * of a shape cheap to parse (json-limits.ts), checked before parsing; and bodies being received at
 * once are bounded per client and in all (BodyBudget).
 */
import type { IncomingMessage } from 'node:http';
import { DEFAULT_MAX_REQUEST_BODY_SIZE, isInitializeRequest, isJSONRPCRequest, isJsonContentType } from '@modelcontextprotocol/server';
import { jsonTooCostly } from './json-limits.ts';

export type PostBody =
  | { kind: 'json'; value: unknown; messages: unknown[] }
  /** Not declared as JSON: left unread, for the transport to refuse (415). */
  | { kind: 'not-json' }
  | { kind: 'refused'; status: 400 | 413 | 429 | 503; code: number; message: string };

/**
 * Bytes of request bodies being received at once, per client and in all. Each body is at most 4 MiB,
 * but a client may send many at once, slowly (Node waits 300 s for a request): without a bound, a
 * few hundred connections' bodies held in memory would run the server out of it.
 */
export class BodyBudget {
  readonly maxPerClient: number;
  readonly max: number;
  #used = 0;
  readonly #byClient = new Map<string, number>();

  constructor(maxPerClient: number, max: number) {
    this.maxPerClient = maxPerClient;
    this.max = max;
  }

  /** Takes `bytes` for `client`: undefined when taken, else the status to refuse with (429: the client's share, 503: all). */
  take(client: string, bytes: number): 429 | 503 | undefined {
    const own = this.#byClient.get(client) ?? 0;
    if (own + bytes > this.maxPerClient) return 429;
    if (this.#used + bytes > this.max) return 503;
    this.#byClient.set(client, own + bytes);
    this.#used += bytes;
    return undefined;
  }

  /** Bytes being received now, in all. */
  get used(): number {
    return this.#used;
  }

  give(client: string, bytes: number): void {
    const left = (this.#byClient.get(client) ?? bytes) - bytes;
    if (left <= 0) this.#byClient.delete(client);
    else this.#byClient.set(client, left);
    this.#used -= bytes;
  }
}

export async function readPostBody(req: IncomingMessage, budget: BodyBudget, client: string, maxBytes = DEFAULT_MAX_REQUEST_BODY_SIZE): Promise<PostBody> {
  if (!isJsonContentType(req.headers['content-type'] ?? null)) return { kind: 'not-json' };
  const tooLarge = { kind: 'refused', status: 413, code: -32000, message: `Payload Too Large: Request body must not exceed ${maxBytes} bytes` } as const;
  if (Number(req.headers['content-length']) > maxBytes) return tooLarge;
  let held = 0;
  let refusal: 429 | 503 | undefined;
  const release = () => {
    budget.give(client, held);
    held = 0;
  };
  const text = await readText(req, maxBytes, (bytes) => {
    refusal = budget.take(client, bytes);
    if (refusal === undefined) held += bytes;
    else release(); // what was kept is dropped: its bytes are free at once, not when the body ends
    return refusal === undefined;
  }).finally(release);
  if (refusal !== undefined) return busy(refusal, budget);
  if (text === undefined) return tooLarge;
  const costly = jsonTooCostly(text);
  if (costly !== undefined) return { kind: 'refused', status: 400, code: -32700, message: `Parse error: ${costly}` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'refused', status: 400, code: -32700, message: 'Parse error: Invalid JSON' };
  }
  return { kind: 'json', value, messages: Array.isArray(value) ? value : [value] };
}

function busy(status: 429 | 503, budget: BodyBudget): PostBody {
  const message =
    status === 429
      ? `Too many request bodies at once: at most ${budget.maxPerClient} bytes being received per client`
      : `Server busy: at most ${budget.max} bytes of request bodies being received at once`;
  return { kind: 'refused', status, code: -32000, message };
}

/**
 * The body as text; undefined once it passes `maxBytes` (the rest is not read) or once `reserve`
 * refuses a chunk (the rest is read and dropped, so that the refusal can be answered on a clean
 * connection rather than reset under unread bytes).
 */
function readText(req: IncomingMessage, maxBytes: number, reserve: (bytes: number) => boolean): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let dropping = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        return resolve(undefined);
      }
      if (dropping || !reserve(chunk.length)) {
        dropping = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(dropping ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    // A client that goes away mid-body: nothing to answer.
    req.once('close', () => resolve(req.complete && !dropping ? Buffer.concat(chunks).toString('utf8') : undefined));
  });
}

/** Whether a body is one valid `initialize` request (the only message that may open a session, and so make room for one). */
export function isInitialize(messages: readonly unknown[]): boolean {
  const [message] = messages;
  return messages.length === 1 && isJSONRPCRequest(message) && isInitializeRequest(message);
}
