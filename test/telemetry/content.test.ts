// Without `recordContent`, no message content reaches a span: not the prompt, and not the answer,
// even when the answer is quoted by an error (an answer that is not the JSON asked for).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createSupervisor } from '../../src/index.ts';
import { registerTracing } from './otel-setup.ts';

const ANSWER = 'CONFIDENTIAL-ANSWER-7731: the diagnosis';
const PROMPT = 'My private question PRIVATE-PROMPT-4410';

test('an answer quoted by its error (not the JSON asked for) reaches no span without recordContent', async () => {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          model: 'gpt-4o-mini',
          choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
        }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const tracing = registerTracing();
  const supervisor = createSupervisor({
    threads: 1,
    logger: false,
    providers: { kimi: { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'sk-content-test-0123' } },
  });
  try {
    const error = await supervisor
      .chat({
        provider: 'kimi',
        prompt: PROMPT,
        responseFormat: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } } } },
        timeoutMs: 20_000,
      })
      .then(
        () => assert.fail('expected the answer to be refused'),
        (e: { code: string; message: string }) => e,
      );
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE');
    await tracing.provider.forceFlush();
    const spans = tracing.spans();
    assert.ok(spans.length >= 2, 'the session span and its call span');
    const seen = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
    assert.ok(!seen.includes('PRIVATE-PROMPT-4410'), 'the prompt is in a span');
    assert.ok(
      !seen.includes('CONFIDENTI'),
      `the answer is in a span: ${seen.slice(Math.max(0, seen.indexOf('CONFIDENTI') - 120), seen.indexOf('CONFIDENTI') + 40)}`,
    );
  } finally {
    await supervisor.close();
    await tracing.close();
    server.close();
  }
});
