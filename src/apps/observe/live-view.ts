// The offline live view: one self-contained page (inline CSS and JS, nothing fetched from elsewhere)
// served on 127.0.0.1, fed over a WebSocket by a LiveFeed. It shows the session machine with live
// counts, the queue, and a timeline of sessions per worker thread. Also serves `/metrics`
// (Prometheus) and `/machine.json` (the machine for the Stately editor).
//
//   browser ── GET /            → the page (live-view.html with live-view-draw.js and live-view-client.js inlined)
//           ── WS  /events      → hello { machine, stats, recent events }, then batch { events, stats } every 100 ms
//           ── GET /metrics     → supervisor.metrics()
//
// Only pages from this server may connect (Host and Origin are checked: another site open in the
// same browser cannot read the sessions), and close() ends every connection it accepted.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { importPeer } from '../../api/internal.ts';
import type { Supervisor } from '../../api/public.ts';
import { LiveFeed, type LiveFeedOptions } from './live-feed.ts';
import { sessionMachineJSON } from './machine-export.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../../api/public.ts';

/** The options of startLiveView(). */
export interface LiveViewOptions extends Pick<LiveFeedOptions, 'historySize' | 'intervalMs' | 'windowMs' | 'now'> {
  /** The port to listen on. @default 0 (a free port) */
  port?: number;
  /** Loopback only unless told otherwise. @default '127.0.0.1' */
  host?: string;
}

/** A running live view (startLiveView() resolves with it). */
export interface LiveView {
  /** The page to open in a browser: `http://127.0.0.1:<port>/` (`/metrics` and `/machine.json` beside it). */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Sends the last events, ends every page's connection and stops the server; leaves no handle behind. */
  close(): Promise<void>;
}

/** Pages whose WebSocket has this much unsent data skip batches until it drains. */
const MAX_BUFFERED = 8 * 1024 * 1024;

/**
 * Serves the live view of a supervisor's sessions: one self-contained page (nothing fetched from
 * elsewhere) with the session machine and live counts, the queue, and a timeline of sessions per
 * worker thread, fed over a WebSocket; `/metrics` (Prometheus) and `/machine.json` beside it. Only
 * pages of this server may connect. Needs the optional peer `ws` (else MissingPeerDependencyError).
 * @example
 * ```ts
 * import { createSupervisor } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 * import { startLiveView } from 'sessionpool/observe';
 *
 * const mock = await startMockProvider({ latencyMs: 200 });
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const view = await startLiveView(supervisor);
 * console.log(`live view: ${view.url}`); // open it in a browser
 * await Promise.all(Array.from({ length: 10 }, (_, i) => supervisor.chat({ provider: 'kimi', prompt: `question ${i}` })));
 * console.log((await (await fetch(`${view.url}metrics`)).text()).includes('sessionpool_sessions')); // true
 * await view.close();
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export async function startLiveView(supervisor: Supervisor, options: LiveViewOptions = {}): Promise<LiveView> {
  const [{ WebSocketServer }, page] = await Promise.all([importPeer('ws', 'startLiveView', () => import('ws')), pageHtml()]);
  const host = options.host ?? '127.0.0.1';
  const feed = new LiveFeed(supervisor, options);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(host);
  const server = createServer((req, res) => route(req, res, { page, supervisor, port: portOf(server), loopback }));
  server.on('upgrade', (req, socket, head) => upgrade(req, socket, head, { wss, feed, port: portOf(server), loopback }));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (error) {
    feed.close();
    throw error;
  }
  const port = portOf(server);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: () => (closing ??= closeAll(server, wss, feed)),
  };
}

async function closeAll(server: Server, wss: WebSocketServer, feed: LiveFeed): Promise<void> {
  feed.close();
  await Promise.all([...wss.clients].map(closeClient));
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/** A closing handshake (after the last batch), or the socket cut if the page does not answer in 1 s. */
function closeClient(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), 1000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(1001, 'live view closed');
  });
}

interface RouteContext {
  page: string;
  supervisor: Supervisor;
  port: number;
  loopback: boolean;
}

function route(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): void {
  if (!allowedHost(req, ctx)) return void res.writeHead(403).end('forbidden host\n');
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  switch (path) {
    case '/': {
      const csp = `default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src ws://${req.headers.host}`;
      return void res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp }).end(ctx.page);
    }
    case '/metrics':
      return void res.writeHead(200, { ...headers, 'content-type': PROMETHEUS_CONTENT_TYPE }).end(ctx.supervisor.metrics());
    case '/machine.json':
      return void res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(`${JSON.stringify(sessionMachineJSON(), null, 2)}\n`);
    default:
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
}

interface UpgradeContext {
  wss: WebSocketServer;
  feed: LiveFeed;
  port: number;
  loopback: boolean;
}

function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: UpgradeContext): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path !== '/events' || !allowedHost(req, ctx) || !allowedOrigin(req)) {
    socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
    return;
  }
  ctx.wss.handleUpgrade(req, socket, head, (ws) => attach(ws, ctx.feed));
}

function attach(ws: WebSocket, feed: LiveFeed): void {
  const unsubscribe = feed.subscribe((message) => {
    if (ws.readyState === ws.OPEN && ws.bufferedAmount < MAX_BUFFERED) ws.send(message);
  });
  ws.on('close', unsubscribe);
  ws.on('error', () => ws.terminate());
  // The page sends nothing; anything it sends is ignored.
}

/**
 * On loopback, only loopback names (a DNS-rebinding page comes with its own host name); a server
 * bound elsewhere on purpose (`host` option) is reached by whatever name the network gives it.
 */
function allowedHost(req: IncomingMessage, ctx: { port: number; loopback: boolean }): boolean {
  if (!ctx.loopback) return true;
  return [`127.0.0.1:${ctx.port}`, `localhost:${ctx.port}`, `[::1]:${ctx.port}`].includes(req.headers.host ?? '');
}

/** Browsers send an Origin: it must be this server's page; tools without one (tests, curl) are let in. */
function allowedOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host}`;
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

let cachedPage: Promise<string> | undefined;

/** The page with its script inlined: one self-contained document. */
function pageHtml(): Promise<string> {
  const read = (name: string) => readFile(new URL(name, import.meta.url), 'utf8');
  cachedPage ??= Promise.all([read('./live-view.html'), read('./live-view-draw.js'), read('./live-view-client.js')]).then(([html, draw, client]) =>
    html.replace('/*__CLIENT__*/', () => `${draw}\n${client}`),
  );
  return cachedPage;
}
