/** `sessionpool mcp`: the engine as an MCP server, over stdio (default) or Streamable HTTP. */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { logLevel } from '../../api/internal.ts';
import { createSupervisor } from '../../api/public.ts';
import { DEFAULT_MAX_TIMEOUT_MS } from '../mcp/chat-schema.ts';
import { configFromEnv, configWithMock, loadConfigFile, type McpConfig } from '../mcp/config.ts';
import { requestGuard } from '../mcp/http-guard.ts';
import { type McpHttpOptions, serveHttp } from '../mcp/http.ts';
import { packageVersion } from '../mcp/package-version.ts';
import { createMcpServer, type ToolContext } from '../mcp/server.ts';
import { serveStdio } from '../mcp/stdio.ts';

const USAGE = `usage: sessionpool mcp [--mock | --config FILE] [--http PORT [--host H] [--allowed-host NAME]...
                       [--max-sessions N] [--max-sessions-per-client N] [--max-calls-per-client N]
                       [--max-connections-per-client N]]
                       [--threads N] [--timeout MS] [--max-timeout MS] [--max-input-in-flight BYTES]

Serves MCP (tools chat, providers, stats) over stdio, or with --http PORT over Streamable HTTP at
http://127.0.0.1:PORT/mcp (port 0: a free one; the URL is printed on stderr). Host and Origin headers
are checked: loopback names only, plus each --allowed-host; a --host that is not loopback needs them.
HTTP sessions: at most --max-sessions (default 1000), and --max-sessions-per-client per remote address
(default 100; behind a proxy every client has the proxy's address); an idle session makes room for a
new one, a session that never called a tool expires after 60 s idle, one that did after 30 min.
A client (remote address) has at most --max-calls-per-client tool calls in progress (default: a
quarter of the engine's maxConcurrent, 16 by default); beyond it a call gets 429. It holds at most
--max-connections-per-client TCP connections (default: sessions + calls per client + 32). An IPv6
client is its /64 prefix.
--timeout is the deadline of a call that names none; a call's own timeoutMs may be at most
--max-timeout (default 600000, or --timeout when that is longer): a client cannot hold a slot longer.
Calls in progress hold at most --max-input-in-flight bytes of prompts and messages in all (default
268435456); a call beyond it gets ERR_QUEUE_FULL.
Providers: kimi, glm and openai with keys from MOONSHOT_API_KEY/KIMI_API_KEY, ZHIPUAI_API_KEY/
GLM_API_KEY/ZAI_API_KEY, OPENAI_API_KEY; or --config FILE ({ "providers": {...}, "defaultProvider",
"supervisor": {...} }); or --mock: the embedded mock provider, no key needed. Logs go to stderr
(SESSIONPOOL_LOG_LEVEL, default warn). Ends on stdin's end (stdio), SIGINT or SIGTERM.`;

const OPTIONS = {
  mock: { type: 'boolean', default: false },
  config: { type: 'string' },
  http: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  'allowed-host': { type: 'string', multiple: true },
  'max-sessions': { type: 'string' },
  'max-sessions-per-client': { type: 'string' },
  'max-calls-per-client': { type: 'string' },
  'max-connections-per-client': { type: 'string' },
  threads: { type: 'string' },
  timeout: { type: 'string' },
  'max-timeout': { type: 'string' },
  'max-input-in-flight': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

export async function runMcp(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.mock && values.config !== undefined) throw usageError('--mock and --config exclude each other');
  const level = logLevel();
  const port = integer('http', values.http, 0, 65_535);
  // Refused before anything starts: a host that is not loopback without the names it answers to.
  if (port !== undefined) requestGuard(values.host, values['allowed-host'] ?? []);
  const httpOptions = port === undefined ? undefined : httpServeOptions(port, values);
  const engine = engineOptions(values);
  const maxTimeoutFlag = integer('max-timeout', values['max-timeout'], 1, 86_400_000);
  const maxInputBytesInFlight = integer('max-input-in-flight', values['max-input-in-flight'], 1, Number.MAX_SAFE_INTEGER);
  const config = values.mock ? await configWithMock() : values.config !== undefined ? await loadConfigFile(values.config) : configFromEnv();
  // A quarter of the engine's slots per client unless told otherwise: one client cannot take them all.
  if (httpOptions !== undefined) httpOptions.maxCallsPerClient ??= Math.max(1, Math.floor((config.supervisor.maxConcurrent ?? 64) / 4));
  const logger = pino({ name: 'sessionpool-mcp', level }, pino.destination(2));
  const supervisor = createSupervisor({ ...config.supervisor, ...engine, providers: config.providers, logger });
  const context: ToolContext = {
    supervisor,
    providers: config.providers,
    defaultProvider: config.defaultProvider,
    keyEnv: config.keyEnv,
    version: packageVersion(),
    maxTimeoutMs: maxTimeoutFlag ?? Math.max(DEFAULT_MAX_TIMEOUT_MS, engine.timeoutMs ?? config.supervisor.timeoutMs ?? 0),
    ...(maxInputBytesInFlight !== undefined ? { maxInputBytesInFlight } : {}),
  };
  const signalled = new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve(signal));
  });
  let reason: string;
  try {
    reason = httpOptions === undefined ? await stdio(context, signalled) : await http(context, signalled, httpOptions);
  } finally {
    await supervisor.close({ timeoutMs: 2000 });
    await config.mock?.close();
  }
  logger.info({ reason }, 'mcp server stopped');
  // Nothing may keep the process up after this (stdin's handle would): the #2002 workaround's last step.
  process.exit(0);
}

async function stdio(context: ToolContext, signalled: Promise<string>): Promise<string> {
  const served = await serveStdio(createMcpServer(context));
  const reason = await Promise.race([served.stopped, signalled]);
  await served.close();
  return reason;
}

async function http(context: ToolContext, signalled: Promise<string>, options: McpHttpOptions): Promise<string> {
  const served = await serveHttp(() => createMcpServer(context), options);
  console.error(`sessionpool mcp: Streamable HTTP on ${served.url}`);
  const reason = await signalled;
  await served.close();
  return reason;
}

/** Checked before anything starts, like every other option. */
function httpServeOptions(port: number, values: Values): McpHttpOptions {
  return {
    port,
    host: values.host,
    allowedHosts: values['allowed-host'] ?? [],
    maxSessions: integer('max-sessions', values['max-sessions'], 1, 1_000_000),
    maxSessionsPerClient: integer('max-sessions-per-client', values['max-sessions-per-client'], 1, 1_000_000),
    maxCallsPerClient: integer('max-calls-per-client', values['max-calls-per-client'], 1, 1_000_000),
    maxConnectionsPerClient: integer('max-connections-per-client', values['max-connections-per-client'], 1, 1_000_000),
  };
}

function engineOptions(values: Values): Partial<McpConfig['supervisor']> {
  const threads = integer('threads', values.threads, 1, 256);
  const timeoutMs = integer('timeout', values.timeout, 1, 86_400_000);
  return { ...(threads !== undefined ? { threads } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw usageError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

function usageError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_INVALID_ARG_VALUE' });
}
