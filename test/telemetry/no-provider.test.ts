// With `@opentelemetry/api` installed but no tracer or meter provider registered (a host that does
// not use OpenTelemetry), a chat session begins no trace: nothing is recorded, and its task asks
// the worker for no call records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionTelemetry } from '../../src/telemetry/session-telemetry.ts';
import { resolveProviders } from '../../src/request/providers.ts';
import { harness } from '../support/helpers.ts';

test('with no tracer provider registered, a session begins no trace (nothing is recorded or sent)', () => {
  const telemetry = SessionTelemetry.create(true);
  assert.ok(telemetry, '@opentelemetry/api is installed here');
  const provider = resolveProviders({ kimi: { baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k' } }).get('kimi')!;
  const call = { model: 'm', messages: [], continuation: false as const, stream: false, idleTimeoutMs: 1, maxResponseBytes: 1 };
  assert.equal(telemetry.begin({ sessionId: 's', requestId: 'r', provider: { ...provider, apiKey: 'k' } as never, call }), undefined);
  assert.equal(telemetry.tracing, 0);
  assert.equal(telemetry.measuring, false);
  assert.equal(SessionTelemetry.create(false), undefined);
});

test('sessions run as ever without a provider, and leave no trace behind', async () => {
  const h = await harness();
  try {
    const result = await h.supervisor.chat({ provider: 'kimi', prompt: 'Untraced [[mock lengthRounds=1]]' });
    assert.equal(result.metadata.continuation?.attempts, 2);
    assert.ok(result.metadata.cost !== undefined, 'cost does not need OpenTelemetry');
  } finally {
    await h.close();
  }
});

test('without @opentelemetry/api installed, sessions run as ever (nothing is traced, nothing fails)', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const fixtures = new URL('../fixtures/', import.meta.url);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', new URL('hide-otel.ts', fixtures).href, new URL('chat-without-otel.ts', fixtures).pathname],
    { timeout: 60_000 },
  );
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''), { finishReason: 'stop', rounds: 2, priced: true, api: false });
});
