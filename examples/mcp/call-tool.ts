/**
 * An MCP client (the official SDK, @modelcontextprotocol/client) that starts `sessionpool mcp` over
 * stdio as a client configuration says, and calls its `chat` tool.
 *
 * mcp.json (next to this file) is what you paste into an MCP client's configuration (Claude Desktop,
 * Cursor, VS Code, …): `sessionpool` answers with Kimi and GLM, with the keys you fill in under `env`
 * (MOONSHOT_API_KEY, ZHIPUAI_API_KEY); `sessionpool-mock` answers from the embedded mock, no key
 * needed. Other flags: `npx sessionpool mcp --help` (e.g. `--config FILE` for any OpenAI-compatible API).
 *
 * Run:    node examples/mcp/call-tool.ts [--config FILE] [--server NAME] [prompt…]
 *         FILE defaults to this folder's mcp.json; NAME to `sessionpool` when a Kimi or GLM key is in
 *         your environment (an empty value in the file is taken from it), else `sessionpool-mock`.
 *         In a checkout of this repo, `npm run build` first: `npx sessionpool` runs bin/, which runs dist/.
 * Prints: the server's tools, the answer, and its token usage; exits 1 when the tool call failed.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

interface ServerEntry {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

const KEY_VARIABLES = ['MOONSHOT_API_KEY', 'KIMI_API_KEY', 'ZHIPUAI_API_KEY', 'GLM_API_KEY', 'ZAI_API_KEY'];
const { values, positionals } = parseArgs({ allowPositionals: true, options: { config: { type: 'string' }, server: { type: 'string' } } });
const name = values.server ?? (KEY_VARIABLES.some((variable) => process.env[variable]) ? 'sessionpool' : 'sessionpool-mock');
const file = values.config ?? new URL('./mcp.json', import.meta.url);
const { mcpServers } = JSON.parse(await readFile(file, 'utf8')) as { mcpServers: Record<string, ServerEntry> };
const entry = mcpServers[name];
if (entry === undefined) throw new Error(`no server "${name}" in ${file}: it has ${Object.keys(mcpServers).join(', ')}`);

// The server gets PATH, HOME and the like (the SDK's defaults) plus the entry's env, never the rest of ours.
const env = Object.fromEntries(Object.entries(entry.env ?? {}).map(([variable, value]) => [variable, value || process.env[variable] || '']));
const transport = new StdioClientTransport({ command: entry.command, args: entry.args ?? [], env });
const client = new Client({ name: 'sessionpool-example', version: '1.0.0' });
await client.connect(transport);
try {
  const { tools } = await client.listTools();
  console.log(`server "${name}" has tools: ${tools.map((tool) => tool.name).join(', ')}`);
  const prompt = positionals.join(' ') || 'Name three uses of worker threads, one line each.';
  const result = await client.callTool({ name: 'chat', arguments: { prompt } });
  const text = result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
  if (result.isError) {
    console.error(`chat failed: ${text}`);
    process.exitCode = 1;
  } else {
    const { provider, usage } = result.structuredContent as { provider: string; usage: { totalTokens: number } };
    console.log(`answer (${provider}, ${usage.totalTokens} tokens):\n${text}`);
  }
} finally {
  await client.close(); // ends the server: it stops when its stdin closes
}
