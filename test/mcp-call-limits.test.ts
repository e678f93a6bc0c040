// What one client's tool arguments may ask of the server: a deadline no longer than the server's cap
// (a running call keeps its session unevictable and holds an engine slot for as long as it runs).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';
import { DEFAULT_MAX_TIMEOUT_MS } from '../src/mcp/chat-schema.ts';
import { serveHttp, type McpHttpServer } from '../src/mcp/http.ts';
import { createMcpServer, type ToolContext } from '../src/mcp/server.ts';
import { harness, type Harness } from './helpers.ts';
import { spawnMcp, text } from './mcp-helpers.ts';

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'limits-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

const chat = (client: Client, args: Record<string, unknown>) => client.callTool({ name: 'chat', arguments: args }) as Promise<CallToolResult>;

async function timeoutMaximum(client: Client): Promise<unknown> {
  const { tools } = await client.listTools();
  const properties = tools.find((t) => t.name === 'chat')?.inputSchema.properties as Record<string, { maximum?: number }> | undefined;
  return properties?.['timeoutMs']?.maximum;
}

describe('timeoutMs is capped by the server', () => {
  let h: Harness;
  let http: McpHttpServer;
  let client: Client;
  before(async () => {
    h = await harness();
    const context: ToolContext = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test', maxTimeoutMs: 5_000 };
    http = await serveHttp(() => createMcpServer(context), { port: 0 });
    client = await connect(http.url);
  });
  after(async () => {
    await client.close();
    await http.close();
    await h.close();
  });

  test('a day-long timeoutMs is refused before any session starts; the cap is the advertised maximum; the cap itself is accepted', async () => {
    assert.equal(await timeoutMaximum(client), 5_000);
    const admitted = h.supervisor.stats().admitted;
    for (const timeoutMs of [86_400_000, 5_001]) {
      const refused = await chat(client, { prompt: '[[mock hang]]', timeoutMs });
      assert.equal(refused.isError, true, `timeoutMs ${timeoutMs} was accepted`);
      assert.match(text(refused), /timeoutMs/);
      assert.match(text(refused), /5000/);
    }
    assert.equal(h.supervisor.stats().admitted, admitted, 'no session was started for a refused call');
    const answer = await chat(client, { prompt: 'within the cap', timeoutMs: 5_000 });
    assert.equal(answer.isError, undefined, text(answer));
  });
});

describe('the CLI: --max-timeout, and its default', () => {
  test('default: 10 minutes, or the default deadline (--timeout) when that is longer; --max-timeout sets it', async () => {
    const cases: [string[], number][] = [
      [[], DEFAULT_MAX_TIMEOUT_MS],
      [['--timeout', '900000'], 900_000],
      [['--max-timeout', '30000'], 30_000],
    ];
    for (const [flags, expected] of cases) {
      const server = await spawnMcp(['--mock', '--threads', '1', ...flags]);
      try {
        assert.equal(await timeoutMaximum(server.client), expected, flags.join(' '));
      } finally {
        await server.client.close();
      }
    }
  });
});
