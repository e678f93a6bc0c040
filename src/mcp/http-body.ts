/**
 * A POST body read and parsed before the MCP transport sees it (which then gets it parsed), so
 * that the server can decide on what it carries first: only an `initialize` may open a session
 * (and make room for one), and a request whose id is in flight in its session is refused. The same
 * bounds and answers as the SDK transport's own reading: at most 4 MiB (413), JSON or 400; and JSON
 * of a shape cheap to parse (json-limits.ts), checked before parsing.
 */
import type { IncomingMessage } from 'node:http';
import { DEFAULT_MAX_REQUEST_BODY_SIZE, isJsonContentType } from '@modelcontextprotocol/server';
import { jsonTooCostly } from './json-limits.ts';

export type PostBody =
  | { kind: 'json'; value: unknown; messages: unknown[] }
  /** Not declared as JSON: left unread, for the transport to refuse (415). */
  | { kind: 'not-json' }
  | { kind: 'refused'; status: 400 | 413; code: number; message: string };

export async function readPostBody(req: IncomingMessage, maxBytes = DEFAULT_MAX_REQUEST_BODY_SIZE): Promise<PostBody> {
  if (!isJsonContentType(req.headers['content-type'] ?? null)) return { kind: 'not-json' };
  const tooLarge = { kind: 'refused', status: 413, code: -32000, message: `Payload Too Large: Request body must not exceed ${maxBytes} bytes` } as const;
  if (Number(req.headers['content-length']) > maxBytes) return tooLarge;
  const text = await readText(req, maxBytes);
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

/** The body as text; undefined once it passes `maxBytes` (the rest is not read). */
function readText(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    // A client that goes away mid-body: nothing to answer.
    req.once('close', () => resolve(req.complete ? Buffer.concat(chunks).toString('utf8') : undefined));
  });
}

/** Whether a body is one `initialize` request (the only message that may open a session). */
export function isInitialize(messages: readonly unknown[]): boolean {
  if (messages.length !== 1) return false;
  const [message] = messages;
  return typeof message === 'object' && message !== null && (message as { method?: unknown }).method === 'initialize';
}
