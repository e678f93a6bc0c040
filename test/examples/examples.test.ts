// Every program in examples/ run as a user runs it (a child process, `--conditions=sessionpool-source`),
// with no provider key: against the embedded mock, or a mock of this test's (MOCK_URL) when the test
// must see what reached the provider. Each wait is bounded and says what it waited for.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startMockProvider } from '../../src/index.ts';
import { MAIN } from '../mcp/mcp-helpers.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';

type MockProvider = Awaited<ReturnType<typeof startMockProvider>>;

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
/** Blank, so that a key in the environment running the tests never reaches an example. */
const NO_KEYS = Object.fromEntries(
  ['MOONSHOT_API_KEY', 'KIMI_API_KEY', 'ZHIPUAI_API_KEY', 'GLM_API_KEY', 'ZAI_API_KEY', 'OPENAI_API_KEY', 'MOCK_URL'].map((name) => [name, '']),
);

interface Example {
  child: ChildProcess;
  stdout(): string;
  /** Resolves with the first match of `pattern` in stdout, seen already or still to come. */
  line(pattern: RegExp, what: string, ms?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code (a signal is a failure). */
  exit(ms?: number): Promise<number>;
}

const running = new Set<ChildProcess>();

/** `promise`, or a rejection with `message()` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function run(file: string, args: string[] = [], env: Record<string, string> = {}): Example {
  const { NODE_TEST_CONTEXT: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--conditions=sessionpool-source', join(EXAMPLES, file), ...args], {
    env: { ...inherited, ...NO_KEYS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    child.emit('output');
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  // 'close', not 'exit': by then stdout has been read to its end.
  const exited = new Promise<number>((resolve, reject) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      if (code === null) reject(new Error(`${file} was killed by ${signal}\nstdout: ${out}\nstderr: ${err}`));
      else resolve(code);
    });
  });
  exited.catch(() => {});
  const bounded = <T>(promise: Promise<T>, ms: number, what: string) =>
    within(promise, ms, () => `${file}: no ${what} within ${ms} ms\nstdout: ${out}\nstderr: ${err}`);
  return {
    child,
    stdout: () => out,
    line(pattern, what, ms = 30_000) {
      const seen = new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (match === null) return;
          child.off('output', check);
          resolve(match);
        };
        child.on('output', check);
        check();
        exited.then(
          () => reject(new Error(`${file} exited before printing ${what}\nstdout: ${out}\nstderr: ${err}`)),
          (error: unknown) => reject(error),
        );
      });
      return bounded(seen, ms, what);
    },
    exit: (ms = 60_000) => bounded(exited, ms, 'exit'),
  };
}

// Whatever a failed test left running.
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

interface SSEvent {
  event: string;
  data: unknown;
}

/** The events of a `text/event-stream` body, as they arrive. */
async function* events(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEvent> {
  let buffer = '';
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = new Map([...block.matchAll(/^(\w+): ?(.*)$/gm)].map((m) => [m[1], m[2]]));
      yield { event: fields.get('event') ?? 'message', data: JSON.parse(fields.get('data') ?? 'null') };
    }
  }
}

test('cpu-heavy-host: 100 streamed sessions complete beside the ticking host loop; exit code 0', async (t) => {
  const example = run('cpu-heavy-host.ts');
  assert.equal(await example.exit(), 0, example.stdout());
  const out = example.stdout();
  for (const line of out.trim().split('\n')) t.diagnostic(line);
  const [, completed, sessions, characters] = /sessions: (\d+) of (\d+) completed, (\d+) characters received/.exec(out) ?? [];
  assert.deepEqual([completed, sessions], ['100', '100'], out);
  assert.ok(Number(characters) >= 100 * 200, `every answer streamed its text: ${characters} characters`);
  const [, ticks, expected] = /ticks: (\d+) of (\d+) expected in \d+ ms/.exec(out) ?? [];
  assert.ok(Number(ticks) > 0 && Number(ticks) <= Number(expected) + 1, `the host loop ticked while streaming: ${out}`);
  assert.match(out, /event-loop delay while streaming: p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms/);
});

describe('sse-server', () => {
  let mock: MockProvider;
  let server: Example;
  let url: string;
  before(async () => {
    mock = await startMockProvider();
    server = run('sse-server.ts', [], { PORT: '0', MOCK_URL: mock.url });
    [, url = ''] = await server.line(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 'listening line');
  });
  after(async () => {
    server.child.kill('SIGKILL');
    await mock.close();
  });

  test('serves the page, then streams one session to the final event with the usage', async () => {
    const page = await fetch(url);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /new EventSource\(`\/chat\?prompt=/);

    const response = await fetch(`${url}/chat?prompt=${encodeURIComponent('Hello over SSE')}`, { signal: AbortSignal.timeout(20_000) });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const seen: SSEvent[] = [];
    for await (const event of events(response.body!)) seen.push(event);
    const last = seen.at(-1);
    assert.equal(last?.event, 'done', JSON.stringify(seen));
    const { usage, finishReason } = last.data as { usage: { completionTokens: number; totalTokens: number }; finishReason: string };
    assert.deepEqual([usage.completionTokens, finishReason], [16, 'stop']);
    const deltas = seen.slice(0, -1);
    assert.ok(deltas.length > 0 && deltas.every((e) => e.event === 'delta'), 'the answer came as delta events before it');
    assert.match(deltas.map((e) => (e.data as { text: string }).text).join(''), /^Answer to "Hello over SSE"/);
    await server.line(/done: \d+ characters, \d+ tokens/, 'the done line');
  });

  test('a client that leaves mid-stream aborts its session: the provider sees its request closed', async () => {
    const leaving = new AbortController();
    // 16 words, 200 ms apart: the stream is still going when the client leaves after the first one.
    const response = await fetch(`${url}/chat?prompt=${encodeURIComponent('Leave early [[mock chunkDelayMs=200]]')}`, { signal: leaving.signal });
    const first = await events(response.body!).next();
    assert.equal(first.value?.event, 'delta');
    leaving.abort();
    const closed = await within(mock.waitForClosed(1), 10_000, () => 'the mock saw no request closed early within 10 s');
    assert.match(JSON.stringify(closed[0]?.body?.messages), /Leave early/);
    await server.line(/aborted: the browser left after \d+ characters/, 'the aborted line', 10_000);
  });

  test('SIGTERM closes the server and the supervisor: exit code 0', async () => {
    server.child.kill('SIGTERM');
    assert.equal(await server.exit(20_000), 0);
  });
});

describe('mcp/call-tool', () => {
  const KEY = 'sk-examples-mcp-0123456789';
  let mock: MockProvider;
  let dir: string;
  /** examples/mcp/mcp.json with `npx … sessionpool` replaced by this repo's CLI, and `extra` flags. */
  let clientConfig: (extra: string[]) => Promise<string>;
  before(async () => {
    mock = await startMockProvider({ apiKey: KEY });
    dir = await mkdtemp(join(tmpdir(), 'sessionpool-examples-mcp-'));
    const shipped = JSON.parse(await readFile(join(EXAMPLES, 'mcp/mcp.json'), 'utf8')) as {
      mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }>;
    };
    clientConfig = async (extra) => {
      const mcpServers = Object.fromEntries(
        Object.entries(shipped.mcpServers).map(([name, entry]) => {
          assert.equal(entry.command, 'npx', `${name} runs npx`);
          const own = entry.args.slice(entry.args.indexOf('sessionpool') + 1);
          assert.equal(own[0], 'mcp', `${name} runs sessionpool mcp`);
          return [name, { ...entry, command: process.execPath, args: [MAIN, ...own, ...extra] }];
        }),
      );
      const file = join(dir, `mcp-${extra.length}.json`);
      await writeFile(file, JSON.stringify({ mcpServers }));
      return file;
    };
  });
  after(async () => {
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the `sessionpool` server, pointed at a provider by --config: the chat tool answers and the provider saw the prompt', async () => {
    const serverConfig = join(dir, 'server.json');
    await writeFile(serverConfig, JSON.stringify({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } }, defaultProvider: 'kimi' }));
    const config = await clientConfig(['--config', serverConfig]);
    const example = run('mcp/call-tool.ts', ['--config', config, '--server', 'sessionpool', 'What', 'is', 'a', 'worker', 'thread?']);
    assert.equal(await example.exit(), 0, example.stdout());
    assert.match(example.stdout(), /server "sessionpool" has tools: chat, providers, stats\n/);
    assert.match(example.stdout(), /answer \(kimi, \d+ tokens\):\nAnswer to "What is a worker thread\?"/);
    assert.equal(mock.requests.length, 1);
    assert.equal(mock.requests[0]?.headers['authorization'], `Bearer ${KEY}`);
    assert.deepEqual(mock.requests[0]?.body?.messages?.at(-1), { role: 'user', content: 'What is a worker thread?' });
  });

  test('no key in the environment: it picks `sessionpool-mock` (--mock), which answers from its own mock', async () => {
    const example = run('mcp/call-tool.ts', ['--config', await clientConfig([])]);
    assert.equal(await example.exit(), 0, example.stdout());
    assert.match(example.stdout(), /server "sessionpool-mock" has tools: chat, providers, stats\n/);
    assert.match(example.stdout(), /answer \(kimi, \d+ tokens\):\nAnswer to "Name three uses of worker threads/);
  });
});

describe('hosts: two worker hosts and a producer on a real redis-server', { skip: redisMissing }, () => {
  const SESSIONS = 40;
  let redis: TestRedis;
  let mock: MockProvider;
  before(async () => {
    redis = await startRedis();
    // Shared by both hosts (MOCK_URL), so that this test sees every call; 200 ms each, so that one
    // host (16 at once) cannot take all 40 sessions before the other one does.
    mock = await startMockProvider({ latencyMs: 200 });
  });
  after(async () => {
    await redis?.stop();
    await mock?.close();
  });

  test(`${SESSIONS} sessions spread over both hosts; each host closes on SIGTERM with what it ran`, async () => {
    const env = { REDIS_URL: redis.url, SESSIONPOOL_JOB_SECRET: 'examples-test-job-secret-0123456789abcdef', MOCK_URL: mock.url };
    const hosts = [run('hosts/worker-host.ts', [], env), run('hosts/worker-host.ts', [], env)];
    const names = await Promise.all(
      hosts.map(async (host) => (await host.line(/worker host (\S+): taking sessions from queue "sessionpool-example"/, 'the ready line'))[1]),
    );
    const producer = run('hosts/producer.ts', [], { ...env, SESSIONS: String(SESSIONS) });
    assert.equal(await producer.exit(), 0, producer.stdout());
    assert.match(producer.stdout(), new RegExp(`^${SESSIONS} of ${SESSIONS} sessions completed in \\d+ ms\n`));
    const perHost = new Map([...producer.stdout().matchAll(/^ {2}(\S+): (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    assert.deepEqual([...perHost.keys()].sort(), [...names].sort(), 'both hosts ran sessions');
    const total = [...perHost.values()].reduce((sum, n) => sum + n, 0);
    assert.equal(total, SESSIONS, 'the per-host counts add up');
    assert.equal(mock.requests.length, SESSIONS, 'one provider call per session');

    for (const host of hosts) host.child.kill('SIGTERM');
    for (const [i, host] of hosts.entries()) {
      const [, name, completed] = await host.line(/worker host (\S+): closed after (\d+) sessions \(0 aborted\)/, 'the closed line', 20_000);
      assert.equal(name, names[i]);
      assert.equal(Number(completed), perHost.get(name!), `${name} counted what the producer saw it run`);
      assert.equal(await host.exit(10_000), 0);
    }
  });
});
