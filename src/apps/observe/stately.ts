// The Stately inspector for every session machine: @statelyai/inspect's local inspector server (an
// HTTP page that embeds the hosted inspector, plus a WebSocket relay) and its WebSocket inspector,
// whose `inspect` observer goes to createSupervisor({ inspect }).
//
// Two traps of the library are handled here (see DESIGN.md, "Measured traps"):
// - the WebSocket inspector reconnects forever (every 5 s after an error, even after stop() when the
//   error came from closing a connection still being opened): it is started only once the server
//   listens, and its error handler is taken away before it is stopped;
// - the server's stop() closes neither the relay's open connections (a browser tab keeps the process
//   alive) nor reports listen errors (an unhandled 'error' event): its HTTP server is captured when
//   it is created, so that its sockets can be ended and its errors handled.
// - the server listens on every interface and relays to any page: it is bound to loopback here, and
//   its requests and WebSocket upgrades are checked like the live view's (Host a loopback name, Origin
//   absent or a loopback page of this port), so another site open in the browser cannot read the feed.
// Server, relay connections and the inspector's socket are unref'd: a process whose supervisor was
// closed exits even if stop() was forgotten (stop() still ends everything cleanly, last events included).
// Both modules are imported when this starts, so that a supervisor without inspection never loads them.
import { createRequire } from 'node:module';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { InspectOption } from '../../api/public.ts';
import { importPeer } from '../../api/internal.ts';

/** The options of startStatelyInspector(). */
export interface StatelyInspectorOptions {
  /** Port of the inspector server (page and WebSocket relay). @default a free port */
  port?: number;
  /** The inspector UI that the page embeds (it needs internet in the viewing browser). @default 'https://stately.ai/inspect' */
  inspectorUrl?: string;
  /** The interface the page and relay listen on; Host and Origin are checked only on loopback. @default '127.0.0.1' */
  host?: string;
}

/** A running Stately inspector relay (startStatelyInspector() resolves with it). */
export interface StatelyInspector {
  /** Pass to `createSupervisor({ inspect })`: every session actor is reported to the inspector. */
  inspect: InspectOption;
  /** The page to open in a browser (`http://localhost:<port>`). */
  url: string;
  /** Stops the inspector and the server and ends their connections; nothing is left holding the process. */
  stop(): Promise<void>;
}

type HttpModule = { createServer: (...args: unknown[]) => Server };

/**
 * Starts @statelyai/inspect's inspector server (on loopback) and a WebSocket inspector connected to
 * it: pass its `inspect` to `createSupervisor({ inspect })` and open its `url` to watch every session
 * machine in the Stately inspector (the page needs internet in the browser). Needs the optional peer
 * `@statelyai/inspect` (else MissingPeerDependencyError).
 * @example
 * ```ts
 * import { createSupervisor } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 * import { startStatelyInspector } from 'sessionpool/observe';
 *
 * const mock = await startMockProvider();
 * const stately = await startStatelyInspector();
 * const supervisor = createSupervisor({ inspect: stately.inspect, providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * console.log(`open ${stately.url}`);
 * await supervisor.chat({ provider: 'kimi', prompt: 'Hello' });
 * await supervisor.close();
 * await stately.stop(); // after close(), so that the last events go out
 * await mock.close();
 * ```
 */
export async function startStatelyInspector(options: StatelyInspectorOptions = {}): Promise<StatelyInspector> {
  const [{ createWebSocketInspector }, { createInspectorServer }] = await Promise.all([
    importPeer('@statelyai/inspect', 'startStatelyInspector', () => import('@statelyai/inspect')),
    importPeer('@statelyai/inspect', 'startStatelyInspector', () => import('@statelyai/inspect/server')),
  ]);
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const { relay, server } = captureServer(
    () => createInspectorServer({ port, autoOpen: false, ...(options.inspectorUrl ? { url: options.inspectorUrl } : {}) }),
    host,
    port,
  );
  const sockets = new Set<Socket>();
  server?.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.unref();
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    // A listen error (the port taken meanwhile) rejects the start instead of crashing the process.
    await listening(server);
  } catch (error) {
    relay.stop();
    throw error;
  }
  server?.unref();
  const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}`, autoStart: false });
  inspector.start();
  await connected(clientSocket(inspector));
  let stopped: Promise<void> | undefined;
  return {
    inspect: inspector.inspect,
    url: `http://localhost:${port}`,
    stop: () => (stopped ??= stopAll(inspector, relay, server, sockets)),
  };
}

async function stopAll(inspector: { adapter: object; stop(): void }, relay: { stop(): void }, server: Server | undefined, sockets: Set<Socket>): Promise<void> {
  // Inspection events are converted on a zero-delay timer each: let the ones already scheduled go out.
  await new Promise((resolve) => setTimeout(resolve, 0));
  // Its own error handler would reconnect in 5 s; a WebSocket without any error handler would throw.
  const ws = clientSocket(inspector);
  if (ws !== undefined) ws.onerror = () => {};
  // Once the closing handshake is over, the relay has read (and passed on) everything sent before it.
  const handshake = ws?.readyState === 1 ? closeOf(ws) : Promise.resolve();
  inspector.stop();
  await handshake;
  const closed = server?.listening ? new Promise((resolve) => server.once('close', resolve)) : Promise.resolve();
  relay.stop();
  for (const socket of sockets) {
    // end() lets what was relayed reach the browser; destroy() is for a peer that never closes.
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }
  await closed;
}

/** The library's private client socket (a `ws` WebSocket in Node). */
interface InspectorSocket {
  onerror: unknown;
  readyState: number;
  once(event: 'open' | 'close', listener: () => void): void;
  _socket?: Socket;
}

function clientSocket(inspector: { adapter: object }): InspectorSocket | undefined {
  return (inspector.adapter as { ws?: InspectorSocket }).ws;
}

/** Resolves once the inspector is connected to the relay (or after 2 s: events wait in its buffer). */
function connected(ws: InspectorSocket | undefined): Promise<void> {
  if (ws === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    ws.once('open', () => {
      clearTimeout(timer);
      // Like the relay's own sockets, it never keeps the process alive by itself.
      ws._socket?.unref();
      resolve();
    });
  });
}

function closeOf(ws: InspectorSocket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Runs `create` while recording the HTTP server it makes (the library does not hand it out), bound
 * to `host` and guarded (see guard()).
 */
function captureServer<T>(create: () => T, host: string, port: number): { relay: T; server: Server | undefined } {
  const http = createRequire(import.meta.url)('node:http') as HttpModule;
  const original = http.createServer;
  let server: Server | undefined;
  http.createServer = (...args: unknown[]) => guard((server = original(...args)), host, port);
  try {
    return { relay: create(), server };
  } finally {
    http.createServer = original;
  }
}

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

/** Loopback names of this port, as a Host header and as the origin of a page served here. */
function loopbackHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

/**
 * Makes the library's server listen on `host` only and refuse, on loopback, requests whose Host is
 * not a loopback name of the port (DNS rebinding) and WebSocket upgrades from pages of other origins.
 */
function guard(server: Server, host: string, port: number): Server {
  const listen = server.listen.bind(server) as (...args: unknown[]) => Server;
  server.listen = ((p: number, callback?: () => void) => listen(p, host, callback)) as Server['listen'];
  if (!LOOPBACK.includes(host)) return server;
  const hosts = loopbackHosts(port);
  const origins = hosts.map((h) => `http://${h}`);
  const emit = server.emit.bind(server) as (event: string, ...args: unknown[]) => boolean;
  server.emit = ((event: string, ...args: unknown[]) => {
    if (event !== 'request' && event !== 'upgrade') return emit(event, ...args);
    const req = args[0] as IncomingMessage;
    const allowed = hosts.includes(req.headers.host ?? '') && (event === 'request' || req.headers.origin === undefined || origins.includes(req.headers.origin));
    if (allowed) return emit(event, ...args);
    if (event === 'request') (args[1] as ServerResponse).writeHead(403).end('forbidden\n');
    else (args[1] as Duplex).end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
    return true;
  }) as Server['emit'];
  return server;
}

function listening(server: Server | undefined): Promise<void> {
  if (server === undefined || server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    server.once('error', reject);
  });
}

/** A port free now (the library's server takes a port number, not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
