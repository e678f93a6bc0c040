// Call input held in progress is bounded: a stdio client queueing 4 MiB calls made the server hold
// about 7 MB each (1.2 GB after 150 calls, with 1088 admitted by default), enough to run it out of
// memory. A call that does not fit the budget is refused at once with ERR_QUEUE_FULL, nothing started.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ERROR_META_KEY } from '../../src/apps/mcp/tool-result.ts';
import { createMcpServer } from '../../src/apps/mcp/server.ts';
import { LineTransport } from '../../src/apps/mcp/stdio-transport.ts';
import { harness } from '../support/helpers.ts';

/** Rejects with `what` when `promise` is not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`expected ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

interface Answer {
  id?: unknown;
  result?: { isError?: boolean; content?: { text: string }[]; _meta?: Record<string, { code: string; retryable?: boolean }> };
}

test('over stdio: two 3.5 MB calls fill a 7.5 MiB budget; a third is refused ERR_QUEUE_FULL unstarted; one ending makes room', async (t) => {
  const h = await harness();
  const server = createMcpServer({ supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test', maxInputBytesInFlight: 7.5 * 1_048_576 });
  t.after(async () => {
    await server.close();
    await h.close();
  });
  const input = new PassThrough();
  const output = new PassThrough();
  await server.connect(new LineTransport(input, output));
  const answers: Answer[] = [];
  const wakers = new Set<() => void>();
  let text = '';
  output.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    const lines = text.split('\n');
    text = lines.pop() ?? '';
    for (const line of lines) answers.push(JSON.parse(line) as Answer);
    for (const wake of wakers) wake();
  });
  const answerTo = (id: unknown) =>
    within(
      new Promise<Answer>((resolve) => {
        const check = () => {
          const found = answers.find((a) => a.id === id);
          if (found !== undefined) resolve(found);
        };
        wakers.add(check);
        check();
      }),
      30_000,
      `an answer to ${String(id)}`,
    );
  const send = (message: unknown) => input.write(`${JSON.stringify(message)}\n`);
  const big = (tag: string) => `[[mock hang]] ${tag} ${'x'.repeat(3.5 * 1_000_000)}`;
  const call = (id: number, prompt: string) => send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'chat', arguments: { prompt } } });
  send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  await answerTo(0);
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  call(1, big('a'));
  call(2, big('b'));
  await within(h.mock.waitForRequests(2), 30_000, 'both calls at the provider');
  const admitted = h.supervisor.stats().admitted;
  call(3, big('c'));
  const refused = await answerTo(3);
  assert.equal(refused.result?.isError, true);
  assert.equal(refused.result?._meta?.[ERROR_META_KEY]?.code, 'ERR_QUEUE_FULL');
  assert.equal(refused.result?._meta?.[ERROR_META_KEY]?.retryable, true);
  assert.match(refused.result?.content?.[0]?.text ?? '', /hold 6\.7 MiB of input, at most 7\.5 MiB/);
  assert.equal(h.supervisor.stats().admitted, admitted, 'the refused call started no session');
  // Small calls still fit beside the big ones.
  call(4, 'small');
  assert.equal((await answerTo(4)).result?.isError, undefined);
  // The first big call is cancelled: its input is given back, and a big call fits again.
  send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
  await within(h.mock.waitForClosed(1), 30_000, 'the cancelled call to end at the provider');
  await within(
    (async () => {
      // The input is given back when the cancelled call's handler returns, a few turns after the provider saw the close.
      for (let id = 10; ; id++) {
        call(id, `${big('d')}`.replace('[[mock hang]]', ''));
        const answer = await answerTo(id);
        if (answer.result?.isError !== true) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })(),
    30_000,
    'a big call to fit once one ended',
  );
  send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } });
  await within(h.mock.waitForClosed(2), 30_000, 'the second call to end');
});
