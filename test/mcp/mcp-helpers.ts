/** Spawns `sessionpool mcp` under the MCP SDK's own Client (stdio), and reads its stderr log. */
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { CallToolResult } from '@modelcontextprotocol/client';

export const MAIN = new URL('../../src/apps/cli/main.ts', import.meta.url).pathname;

/** Variables that would give the server real keys: never passed on. */
const KEY_VARIABLES = ['MOONSHOT_API_KEY', 'KIMI_API_KEY', 'ZHIPUAI_API_KEY', 'GLM_API_KEY', 'ZAI_API_KEY', 'OPENAI_API_KEY'];

export interface StdioServer {
  client: Client;
  transport: StdioClientTransport;
  pid: number;
  /** The server's stderr so far. */
  stderr(): string;
  /** Resolves when the server's stdio closed (the process ended). */
  closed: Promise<void>;
  /** Resolves with the reason the server logged when it stopped. */
  stopReason(): Promise<string>;
  call(name: string, args: Record<string, unknown>, options?: Parameters<Client['callTool']>[1]): Promise<CallToolResult>;
}

export async function spawnMcp(args: string[], env: Record<string, string> = {}): Promise<StdioServer> {
  const passed: Record<string, string> = { SESSIONPOOL_LOG_LEVEL: 'info', ...env };
  for (const name of KEY_VARIABLES) if (env[name] === undefined) passed[name] = '';
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp', ...args], env: passed, stderr: 'pipe' });
  let log = '';
  const stopped = Promise.withResolvers<string>();
  transport.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
    const match = /"reason":"([^"]+)"[^\n]*"msg":"mcp server stopped"/.exec(log);
    if (match?.[1] !== undefined) stopped.resolve(match[1]);
  });
  const client = new Client({ name: 'sessionpool-test', version: '1.0.0' });
  const closed = Promise.withResolvers<void>();
  client.onclose = () => closed.resolve();
  await client.connect(transport);
  return {
    client,
    transport,
    pid: transport.pid ?? -1,
    stderr: () => log,
    closed: closed.promise,
    stopReason: () => stopped.promise,
    call: (name, args, options) => client.callTool({ name, arguments: args }, options) as Promise<CallToolResult>,
  };
}

/** The text of a tool result's first content block. */
export function text(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === 'text' ? first.text : '';
}

export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
