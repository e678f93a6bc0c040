// A provider that echoes the key everywhere it can: status text, error bodies, stream errors,
// response headers, answers (streamed, split across chunks, and in failed rounds). The key must
// not come out of any output: results, errors, events, inspection events, debug logs, metrics,
// the live feed, the CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { startLiveView } from '../../src/index.ts';
import type { MockBehaviour, MockRequestRecord } from '../../src/apps/mock/server.ts';
import { startMockProvider } from '../../src/apps/mock/server.ts';
import { harness, KEYS, rejection, user } from '../support/helpers.ts';

/** What the mock does, by the scenario named in the prompt, with the key it was sent. */
function echoing(r: MockRequestRecord): MockBehaviour | undefined {
  const key = /^Bearer (.*)$/.exec(r.headers['authorization'] ?? '')?.[1] ?? '';
  const text = JSON.stringify(r.body?.messages ?? []);
  const round2 = r.body?.messages?.some((m) => m.role === 'assistant') ?? false;
  const echo = { 'x-echo': key, 'msh-context-cache-id': key };
  if (text.includes('scenario-retry')) {
    return {
      failTimes: 1,
      key: `retry-${r.dialect}`,
      status: 500,
      statusText: `Echo ${key}`,
      errorBody: { error: { message: `server saw ${key}`, type: 'server_error', code: '500' } },
      content: `the key is ${key} and more text after it`,
      chunks: 40,
      headers: echo,
    };
  }
  if (text.includes('scenario-cont-401')) {
    return round2
      ? { status: 401, errorBody: { error: { message: `Incorrect API key provided: ${key}`, type: 'invalid_authentication_error' } } }
      : { lengthRounds: 1, completionTokens: 4 };
  }
  if (text.includes('scenario-cont-reset')) {
    return round2
      ? { content: `${key} then many more words to fill the second half of this stream nicely and long`, chunks: 20, reset: 'mid' }
      : { lengthRounds: 1, completionTokens: 4 };
  }
  if (text.includes('scenario-cont-sensitive')) {
    return round2 ? { content: `paid text ${key} end`, chunks: 6, finishReason: 'sensitive' } : { lengthRounds: 1, completionTokens: 4 };
  }
  if (text.includes('scenario-stream-error')) return { streamError: { message: `stream saw ${key}`, code: 'invalid_api_key' }, streamErrorAfter: 2 };
  if (text.includes('scenario-final-401'))
    return {
      status: 401,
      statusText: `Nope ${key}`,
      errorBody: { error: { message: `Incorrect API key provided: ${key}`, type: 'invalid_authentication_error', code: '1002' } },
    };
  if (text.includes('scenario-answer')) return { content: `here it is: ${key}!`, chunks: 30, headers: echo };
  return undefined;
}

function strings(value: unknown, out: string[], seen = new Set<unknown>(), depth = 0): string[] {
  if (typeof value === 'string') out.push(value);
  if (typeof value !== 'object' || value === null || seen.has(value) || depth > 8) return out;
  seen.add(value);
  for (const key of Object.keys(value)) {
    try {
      strings((value as Record<string, unknown>)[key], out, seen, depth + 1);
    } catch {
      // getters that throw are no output
    }
  }
  return out;
}

function assertNoKey(what: string, texts: string[]): void {
  for (const key of Object.values(KEYS)) {
    const leak = texts.find((t) => t.includes(key));
    assert.equal(leak, undefined, `${what} carries a key: ${leak?.slice(0, 160)}`);
  }
}

test('the key planted in every provider-controlled field comes out of no output', async () => {
  let logText = '';
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _e, done) => ((logText += chunk.toString()), done()) }));
  const inspected: string[] = [];
  const h = await harness({ supervisor: { logger, inspect: (event) => strings(event, inspected) }, mock: { behave: echoing } });
  const events: string[] = [];
  h.supervisor.on('retry', (e) => events.push(JSON.stringify(e)));
  h.supervisor.on('started', (e) => events.push(JSON.stringify(e)));
  h.supervisor.on('transition', (e) => events.push(JSON.stringify(e)));
  const view = await startLiveView(h.supervisor, { intervalMs: 10 });
  const feed: string[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${view.port}/events`);
  ws.on('message', (data) => feed.push(String(data)));
  await new Promise((resolve) => ws.once('open', resolve));
  const outputs: unknown[] = [];
  const deltas: string[] = [];
  const onDelta = (t: string) => deltas.push(t);
  try {
    for (const provider of ['kimi', 'glm', 'openai'] as const) {
      outputs.push(
        await h.supervisor.chat({ provider, messages: user(`scenario-retry ${provider}`), onDelta, cache: provider === 'kimi' ? { id: 'c1' } : undefined }),
      );
      outputs.push(await h.supervisor.chat({ provider, messages: user('scenario-retry non-stream') }).catch((e: unknown) => e));
      outputs.push(await h.supervisor.chat({ provider, messages: user('scenario-cont-401') }));
      outputs.push(await h.supervisor.chat({ provider, messages: user('scenario-cont-reset'), onDelta }));
      outputs.push(await h.supervisor.chat({ provider, messages: user('scenario-cont-sensitive'), onDelta }));
      const streamError = await rejection(h.supervisor.chat({ provider, messages: user('scenario-stream-error'), onDelta }));
      const final = await rejection(h.supervisor.chat({ provider, messages: user('scenario-final-401') }));
      outputs.push(streamError, final, String(streamError.stack), String(final.stack), streamError.message, final.message);
      for await (const event of h.supervisor.stream({ provider, messages: user('scenario-answer') })) outputs.push(event);
    }
    outputs.push(h.supervisor.stats());
    // The continuation error of a failed round 2 is there, scrubbed.
    const cont = outputs.find((o) => (o as { metadata?: { continuation?: { error?: unknown } } }).metadata?.continuation?.error !== undefined);
    assert.match(JSON.stringify(cont), /Incorrect API key provided: \[redacted\]/);
    assert.ok(deltas.join('').includes('[redacted]'), 'the key split across chunks was caught');
    assert.ok(
      h.mock.requests.every((r) => Object.values(KEYS).some((k) => r.headers['authorization'] === `Bearer ${k}`)),
      'the keys did reach the provider',
    );
  } finally {
    await new Promise((resolve) => setTimeout(resolve, 30)); // one more feed batch (10 ms interval)
    ws.close();
    await view.close();
    await h.close();
  }
  assertNoKey('a result or an error', strings(outputs, []));
  assertNoKey('a delta', deltas);
  assertNoKey('an event', events);
  assertNoKey('an inspection event', inspected);
  assertNoKey('the debug log', [logText]);
  assertNoKey('the metrics', [h.supervisor.metrics()]);
  assertNoKey('the live feed', feed);
  assert.ok(
    inspected.some((s) => s.includes('[redacted]')),
    'the RETRY inspection event carried the scrubbed message',
  );
  assert.ok(
    events.some((s) => s.includes('[redacted]')),
    'the retry event carried the scrubbed message',
  );
});

test('the CLI prints no key, whatever the provider echoes', async () => {
  const mock = await startMockProvider({ behave: echoing });
  const cli = new URL('../../src/apps/cli/main.ts', import.meta.url).pathname;
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [cli, 'chat', '--provider', 'kimi', '--base-url', mock.baseURL('kimi'), '--api-key', KEYS.kimi, ...args], {
      timeout: 60_000,
    }).then(
      (r) => r.stdout + r.stderr,
      (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
    );
  try {
    const outputs = await Promise.all([run(['--stream', 'scenario-answer']), run(['scenario-final-401']), run(['--stream', 'scenario-stream-error'])]);
    assert.match(outputs[0]!, /here it is: \[redacted\]!/);
    assert.match(outputs[1]!, /ERR_PROVIDER/);
    assert.match(outputs[2]!, /ERR_PROVIDER/);
    assertNoKey('the CLI output', outputs);
    assert.equal(mock.requests.length, 3);
  } finally {
    await mock.close();
  }
});

test('the Stately relay listens on loopback only and lets in only its own pages', async () => {
  const { startStatelyInspector } = await import('../../src/index.ts');
  const { networkInterfaces } = await import('node:os');
  const { request } = await import('node:http');
  const stately = await startStatelyInspector();
  const port = Number(new URL(stately.url).port);
  const status = (host: string, headers: Record<string, string>, address = '127.0.0.1') =>
    new Promise<number | string>((resolve) => {
      const req = request({ host: address, port, path: '/', headers: { host, ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      req.end();
    });
  const upgrade = (host: string, origin?: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { headers: { host, ...(origin ? { origin } : {}) } });
      ws.once('open', () => (ws.close(), resolve('open')));
      ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.once('error', () => resolve('error'));
    });
  try {
    assert.equal(await status(`localhost:${port}`, {}), 200);
    assert.equal(await status(`evil.example:${port}`, {}), 403, 'a DNS-rebinding host name is refused');
    assert.equal(await upgrade(`localhost:${port}`, `http://localhost:${port}`), 'open', 'the bridge page itself');
    assert.equal(await upgrade(`127.0.0.1:${port}`), 'open', 'tools without an Origin');
    assert.equal(await upgrade(`localhost:${port}`, 'https://evil.example'), '403', 'another site open in the browser');
    assert.equal(await upgrade(`evil.example:${port}`, `http://evil.example:${port}`), '403');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i?.family === 'IPv4' && !i.internal)?.address;
    if (external !== undefined) assert.equal(await status(`${external}:${port}`, {}, external), 'ECONNREFUSED', 'not reachable from the network');
  } finally {
    await stately.stop();
  }
});
