/**
 * MCP over stdio. stdout carries only protocol: console output goes to stderr while serving (a
 * stray write without a newline was seen to swallow a response). The SDK's transport does not
 * notice stdin ending (typescript-sdk #2002) and live worker threads would keep the process up,
 * so stdin's end, a broken stdout or the transport closing resolve `stopped`. The transport is
 * our own (LineTransport): a bad or oversized line is answered with an error, never the end of
 * the server.
 */
import { Console } from 'node:console';
import type { McpServer } from '@modelcontextprotocol/server';
import { DEFAULT_MAX_MESSAGE_BYTES, LineTransport } from './stdio-transport.ts';

export interface McpStdioServer {
  /** Resolves with why serving should end: 'stdin end', 'stdout error', 'transport closed'. */
  stopped: Promise<string>;
  /** Closes the transport, which aborts every call in progress. */
  close(): Promise<void>;
}

export interface McpStdioOptions {
  /** A message (one line) larger than this gets an "Invalid Request" error. @default 4_194_304 */
  maxMessageBytes?: number;
}

export async function serveStdio(server: McpServer, stdin = process.stdin, stdout = process.stdout, options: McpStdioOptions = {}): Promise<McpStdioServer> {
  globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  stdin.once('end', () => stop('stdin end'));
  stdin.once('close', () => stop('stdin end'));
  stdout.once('error', () => stop('stdout error'));
  const transport = new LineTransport(stdin, stdout, options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  transport.onclose = () => stop('transport closed');
  await server.connect(transport);
  return { stopped, close: () => server.close() };
}
