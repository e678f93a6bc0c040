/**
 * Streamable HTTP on a plain node:http server: one McpServer and transport per MCP session (a
 * stateless server per request would lose `notifications/cancelled`, which arrives on another
 * request than the call it cancels). Sessions end on DELETE, on close(), or after `idleMs` with no
 * request open.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { McpServer } from '@modelcontextprotocol/server';
import { requestGuard } from './http-guard.ts';

export interface McpHttpOptions {
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Host names accepted besides loopback ones; required when `host` is not loopback. */
  allowedHosts?: string[];
  /** @default '/mcp' */
  path?: string;
  /** Sessions with no open request for this long are closed. @default 1_800_000 */
  idleMs?: number;
  /** Beyond this many sessions, new ones get 503. @default 1000 */
  maxSessions?: number;
}

export interface McpHttpServer {
  url: string;
  sessionCount(): number;
  /** Closes every session (aborting its calls) and the listener. */
  close(): Promise<void>;
}

interface Session {
  server: McpServer;
  transport: NodeStreamableHTTPServerTransport;
  openRequests: number;
  lastSeen: number;
}

export async function serveHttp(newServer: () => McpServer, options: McpHttpOptions): Promise<McpHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/mcp';
  const guard = requestGuard(host, options.allowedHosts);
  const sessions = new Map<string, Session>();
  const limits = { idleMs: options.idleMs ?? 1_800_000, maxSessions: options.maxSessions ?? 1000 };

  const http = createServer((req, res) => {
    if (!guard(req, res)) return;
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) return reply(res, 404, 'Not Found');
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, `Internal error: ${(error as Error).message}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      const session = sessions.get(id);
      if (session === undefined) return reply(res, 404, 'Session not found', -32001);
      return track(session, req, res);
    }
    if (req.method !== 'POST') return reply(res, 400, 'Bad Request: Mcp-Session-Id header is required');
    if (sessions.size >= limits.maxSessions) return reply(res, 503, 'Too many sessions');
    await openSession(req, res);
  }

  async function openSession(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const server = newServer();
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => {
        sessions.set(sessionId, { server, transport, openRequests: 0, lastSeen: Date.now() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res);
    // Anything but a successful initialize leaves no session behind.
    if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) await server.close();
  }

  async function track(session: Session, req: IncomingMessage, res: ServerResponse): Promise<void> {
    session.openRequests++;
    session.lastSeen = Date.now();
    res.once('close', () => {
      session.openRequests--;
      session.lastSeen = Date.now();
    });
    await session.transport.handleRequest(req, res);
  }

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const session of sessions.values()) {
        if (session.openRequests === 0 && now - session.lastSeen > limits.idleMs) void session.server.close();
      }
    },
    Math.min(60_000, limits.idleMs),
  ).unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}${path}`,
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.server.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, status: number, message: string, code = -32000): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
