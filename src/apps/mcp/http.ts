/**
 * Streamable HTTP on a plain node:http server: one McpServer and transport per MCP session (a
 * stateless server per request would lose `notifications/cancelled`, which arrives on another
 * request than the call it cancels). Sessions end on DELETE, on close(), when they expire, or when
 * an idle one makes room for a newcomer (session-policy.ts): clients that never DELETE (the SDK's
 * own client does not) cannot fill the table and lock the others out.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { McpServer } from '@modelcontextprotocol/server';
import { clientKey } from './client-address.ts';
import { BodyBudget, isInitialize, readPostBody } from './http-body.ts';
import { requestGuard } from './http-guard.ts';
import { observeTransport, SessionActivity } from './session-activity.ts';
import { requestOf } from './requests-in-flight.ts';
import { admit, callRefusal, isExpired, resolveLimits } from './session-policy.ts';

export interface McpHttpOptions {
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Host names accepted besides loopback ones; required when `host` is not loopback. */
  allowedHosts?: string[];
  /** @default '/mcp' */
  path?: string;
  /** A session that called a tool is closed after this long with no call running, no GET stream open and no request. @default 1_800_000 */
  idleMs?: number;
  /** The same for a session that never called a tool (a client that connected and left). @default 60_000 */
  freshIdleMs?: number;
  /** Sessions at once; beyond it an idle one is closed, and only when all are busy a newcomer gets 503. @default 1000 */
  maxSessions?: number;
  /** Sessions at once per client (remote address; behind a proxy, all its clients are one). @default 100 */
  maxSessionsPerClient?: number;
  /** Tool calls in progress at once per client (remote address), over all its sessions; beyond it a call gets 429. @default 16 */
  maxCallsPerClient?: number;
  /**
   * TCP connections open at once per client; one more is closed at once. Connections cost file
   * descriptors, which the provider calls need too: one client reopening thousands of idle
   * connections (each lives up to the 60 s header timeout) would exhaust them for everyone.
   * @default maxSessionsPerClient + maxCallsPerClient + 32 (a GET stream per session, a POST per call, and some)
   */
  maxConnectionsPerClient?: number;
  /** Bytes of request bodies being received at once per client (each body is at most 4 MiB); beyond it a POST gets 429. @default 16_777_216 */
  maxBodyBytesPerClient?: number;
  /** The same over all clients; beyond it a POST gets 503. @default 268_435_456 */
  maxBodyBytes?: number;
  /** The clock expiry reads (tests inject one). @default Date.now */
  now?: () => number;
}

export interface McpHttpServer {
  url: string;
  sessionCount(): number;
  /** Bytes of request bodies being received now (bounded by maxBodyBytesPerClient and maxBodyBytes). */
  receivingBytes(): number;
  /** Closes every session (aborting its calls) and the listener. */
  close(): Promise<void>;
}

interface Session {
  server: McpServer;
  transport: NodeStreamableHTTPServerTransport;
  activity: SessionActivity;
}

export async function serveHttp(newServer: () => McpServer, options: McpHttpOptions): Promise<McpHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/mcp';
  const now = options.now ?? Date.now;
  const guard = requestGuard(host, options.allowedHosts);
  const sessions = new Map<string, Session>();
  const limits = resolveLimits(options);
  const bodies = new BodyBudget(options.maxBodyBytesPerClient ?? 16 * 1_048_576, options.maxBodyBytes ?? 256 * 1_048_576);

  const http = createServer((req, res) => {
    if (!guard(req, res)) return;
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) return reply(res, 404, 'Not Found');
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, `Internal error: ${(error as Error).message}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = req.headers['mcp-session-id'];
    const session = typeof id === 'string' ? sessions.get(id) : undefined;
    if (typeof id === 'string' && session === undefined) return reply(res, 404, 'Session not found', -32001);
    if (req.method !== 'POST') {
      if (session === undefined) return reply(res, 400, 'Bad Request: Mcp-Session-Id header is required');
      return track(session, req, res);
    }
    const body = await readPostBody(req, bodies, clientOf(req));
    if (body.kind === 'refused') return reply(res, body.status, body.message, body.code);
    if (session !== undefined) return track(session, req, res, body.kind === 'json' ? body : undefined);
    // Only an initialize opens a session, so only an initialize may make room for one.
    if (body.kind !== 'json' || !isInitialize(body.messages)) return reply(res, 400, 'Bad Request: Mcp-Session-Id header is required');
    const client = clientOf(req);
    expire();
    const admission = admit([...sessions.values()], client, limits);
    if (!admission.admit) return reply(res, admission.status, admission.message);
    for (const evicted of admission.evict) end(evicted);
    await openSession(req, res, client, body.value);
  }

  async function openSession(req: IncomingMessage, res: ServerResponse, client: string, body: unknown): Promise<void> {
    const server = newServer();
    const activity = new SessionActivity(client, now());
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => {
        sessions.set(sessionId, { server, transport, activity });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    observeTransport(transport, activity);
    await transport.handleRequest(req, res, body);
    // Anything but a successful initialize leaves no session behind.
    if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) await server.close();
  }

  /** A request on a session; a POST's body comes parsed (undefined: not JSON, for the transport to refuse). */
  async function track(session: Session, req: IncomingMessage, res: ServerResponse, body?: { value: unknown; messages: unknown[] }): Promise<void> {
    const { activity } = session;
    const stream = req.method === 'GET';
    activity.lastActive = now();
    let claimed: readonly (string | number)[] = [];
    if (body !== undefined) {
      const taken = activity.requests.conflict(body.messages);
      if (taken !== undefined) return reply(res, 409, `Invalid Request: id ${JSON.stringify(taken)} is in use by a request in progress`, -32600, taken);
      const refusal = callRefusal(sessions.values(), activity.client, toolCalls(body.messages).length, limits);
      if (refusal !== undefined) return reply(res, 429, refusal, -32000, toolCalls(body.messages)[0]?.id ?? null);
      claimed = activity.requests.claim(body.messages);
    }
    if (stream) activity.streams++;
    res.once('close', () => {
      activity.lastActive = now();
      if (stream) activity.streams--;
      activity.requests.releaseUndelivered(claimed);
    });
    await session.transport.handleRequest(req, res, body?.value);
  }

  /** Out of the table at once (so it is not counted nor picked again), then closed, which aborts its calls. */
  function end(session: Session): void {
    if (session.transport.sessionId !== undefined) sessions.delete(session.transport.sessionId);
    session.server.close().catch(() => {}); // already closing: the outcome is the same
  }

  function expire(): void {
    const at = now();
    for (const session of sessions.values()) if (isExpired(session.activity, at, limits)) end(session);
  }

  const sweep = setInterval(expire, Math.min(60_000, limits.freshIdleMs, limits.idleMs)).unref();

  limitConnections(http, limits.maxConnectionsPerClient);

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}${path}`,
    sessionCount: () => sessions.size,
    receivingBytes: () => bodies.used,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.server.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Closes a connection at once when its client already holds `max` (counted by client-address.ts). */
function limitConnections(http: Server, max: number): void {
  const open = new Map<string, number>();
  http.on('connection', (socket: Socket) => {
    const client = clientKey(socket.remoteAddress);
    const count = (open.get(client) ?? 0) + 1;
    if (count > max) return void socket.destroy();
    open.set(client, count);
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1;
      if (left === 0) open.delete(client);
      else open.set(client, left);
    });
  });
}

/** The client a request counts against (client-address.ts). */
function clientOf(req: IncomingMessage): string {
  return clientKey(req.socket.remoteAddress);
}

function toolCalls(messages: readonly unknown[]) {
  return messages.map(requestOf).filter((request) => request?.method === 'tools/call');
}

function reply(res: ServerResponse, status: number, message: string, code = -32000, id: string | number | null = null): void {
  // A body left unread (over the size limit) would be read to its end before the next request: close instead.
  const headers =
    status === 413 || status === 429 || status === 503 ? { 'content-type': 'application/json', connection: 'close' } : { 'content-type': 'application/json' };
  res.writeHead(status, headers).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id }));
}
