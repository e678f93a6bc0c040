/**
 * The requests of one MCP connection that are in flight (received, not yet answered nor cancelled),
 * by JSON-RPC id. The SDK's Protocol keeps one abort controller per id: a second request with the
 * id of one still running replaces the first one's controller, and the first call can then be
 * neither cancelled nor aborted when its session closes: it runs on to its deadline, holding an
 * engine slot nobody can free. So a request whose id is in flight is refused before it reaches the
 * Protocol (both transports ask `conflict` first).
 */

export type Id = string | number;

interface InFlightRequest {
  tool: boolean;
  /** Handed to the Protocol (which will answer it); a claimed request not delivered yet is not. */
  delivered: boolean;
}

/** The request part of a JSON-RPC message (a value from the wire, unchecked). */
export function requestOf(message: unknown): { id: Id; method: string } | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { id, method } = message as { id?: unknown; method?: unknown };
  if (typeof method !== 'string' || !(typeof id === 'string' || typeof id === 'number')) return undefined;
  return { id, method };
}

export class RequestsInFlight {
  readonly #requests = new Map<Id, InFlightRequest>();

  /** Tool calls in flight. */
  get toolCalls(): number {
    let n = 0;
    for (const request of this.#requests.values()) if (request.tool) n++;
    return n;
  }

  /** The first id among `messages` that is already in flight or repeated among them; undefined when none is. */
  conflict(messages: readonly unknown[]): Id | undefined {
    const seen = new Set<Id>();
    for (const message of messages) {
      const request = requestOf(message);
      if (request === undefined) continue;
      if (this.#requests.has(request.id) || seen.has(request.id)) return request.id;
      seen.add(request.id);
    }
    return undefined;
  }

  /** Reserves the ids of the requests among `messages` (checked by `conflict` first); returns them. */
  claim(messages: readonly unknown[]): Id[] {
    const ids: Id[] = [];
    for (const message of messages) {
      const request = requestOf(message);
      if (request === undefined) continue;
      this.#requests.set(request.id, { tool: request.method === 'tools/call', delivered: false });
      ids.push(request.id);
    }
    return ids;
  }

  /** A message handed to the Protocol: a request is in flight until answered; a cancellation ends one. */
  delivered(message: unknown): void {
    const request = requestOf(message);
    if (request !== undefined) {
      this.#requests.set(request.id, { tool: request.method === 'tools/call', delivered: true });
      return;
    }
    const m = message as { method?: unknown; params?: { requestId?: unknown } };
    const cancelled = m.params?.requestId;
    // The Protocol aborts the request and sends no answer: it is over.
    if (m.method === 'notifications/cancelled' && (typeof cancelled === 'string' || typeof cancelled === 'number')) this.#requests.delete(cancelled);
  }

  /** A message sent: a result or an error answers its request. */
  sent(message: unknown): void {
    const m = message as { id?: unknown; method?: unknown };
    if (m.method === undefined && (typeof m.id === 'string' || typeof m.id === 'number')) this.#requests.delete(m.id);
  }

  /** Releases claimed ids that never reached the Protocol (their HTTP request was refused or cut first). */
  releaseUndelivered(ids: readonly Id[]): void {
    for (const id of ids) if (this.#requests.get(id)?.delivered === false) this.#requests.delete(id);
  }
}
