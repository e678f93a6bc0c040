/**
 * One session per browser request, streamed over Server-Sent Events (node:http, no framework).
 *
 * GET /            the page (sse-page.html): a prompt box whose answer streams in
 * GET /chat?prompt=…  `text/event-stream`: `delta` events ({ text }) as the answer arrives, then one
 *                  `done` ({ usage, finishReason }) or `failed` ({ code, message }). A browser that goes
 *                  away (tab closed, Stop) aborts its session: the provider call is cancelled.
 *
 * Run:    PORT=8080 node --conditions=sessionpool-source examples/sse-server.ts   (in this repo;
 *         with sessionpool installed, leave out --conditions), then open the URL it prints.
 *         PORT=0 takes a free port. Ctrl-C closes the server and the supervisor.
 * Keys:   none needed: the embedded mock answers. With MOONSHOT_API_KEY / KIMI_API_KEY or
 *         ZHIPUAI_API_KEY / GLM_API_KEY set, the real Kimi or GLM does. MOCK_URL: a mock already
 *         running (`npx sessionpool mock` prints its URL).
 * Prints: `listening on http://127.0.0.1:PORT`, then a line per session: done, aborted or failed.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { BUILT_IN_PROVIDERS, createSupervisor, SessionPoolError } from 'sessionpool';
import { BASE_PATHS, startMockProvider } from 'sessionpool/mock';

// Kimi or GLM when its key is set; otherwise a mock that streams its answers at 30 words a second.
const keyed = ['kimi', 'glm'].find((name) => BUILT_IN_PROVIDERS[name]?.keyEnv.some((variable) => process.env[variable]));
const mock = keyed || process.env.MOCK_URL ? undefined : await startMockProvider({ defaults: { completionTokens: 90, tokensPerSec: 30 } });
const mockURL = process.env.MOCK_URL || mock?.url;
const provider = mockURL ? 'kimi' : keyed!;
const supervisor = createSupervisor({ providers: mockURL ? { kimi: { baseURL: mockURL + BASE_PATHS.kimi, apiKey: 'sk-mock' } } : {}, logger: false });
const page = await readFile(new URL('./sse-page.html', import.meta.url));

/** Writes one SSE event; waits while the browser reads slower than the answer comes (backpressure). */
async function send(res: ServerResponse, event: string, data: unknown, signal: AbortSignal): Promise<void> {
  if (!res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) await once(res, 'drain', { signal });
}

async function chat(prompt: string, res: ServerResponse, signal: AbortSignal): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let characters = 0;
  try {
    for await (const event of supervisor.stream({ provider, prompt, signal })) {
      if (event.type === 'delta') {
        characters += event.text.length;
        await send(res, 'delta', { text: event.text }, signal);
      } else if (event.type === 'result') {
        const { usage, finishReason } = event.result;
        await send(res, 'done', { usage, finishReason }, signal);
        console.log(`done: ${characters} characters, ${usage.totalTokens} tokens`);
      }
    }
  } catch (error) {
    if (signal.aborted) return console.log(`aborted: the browser left after ${characters} characters`);
    const code = error instanceof SessionPoolError ? error.code : 'ERR_INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    console.log(`failed: ${code}`);
    await send(res, 'failed', { code, message }, signal).catch(() => {});
  }
  res.end();
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  if (url.pathname !== '/chat') return res.writeHead(404).end();
  // The browser closing the connection aborts the session (after a normal end it changes nothing).
  const controller = new AbortController();
  req.on('close', () => controller.abort());
  void chat(url.searchParams.get('prompt') || 'Say hello.', res, controller.signal);
});

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`listening on http://127.0.0.1:${port}`);
});

async function shutdown(): Promise<void> {
  server.close();
  server.closeAllConnections(); // open event streams end; their sessions are aborted
  await supervisor.close();
  await mock?.close();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
