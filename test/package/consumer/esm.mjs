// A library user's ESM script: chat, stream and execute against the mock provider, then close.
// It must exit by itself (test/package/run.sh fails it if it is still running after its timeout).
import assert from 'node:assert/strict';
import { createSupervisor, SessionTimeoutError } from 'sessionpool';
import { startMockProvider } from 'sessionpool/mock';

const mock = await startMockProvider();
const supervisor = createSupervisor({
  threads: 2,
  logger: false,
  providers: {
    kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-consumer' },
    glm: { baseURL: mock.baseURL('glm'), apiKey: 'glm-consumer' },
  },
});

const chat = await supervisor.chat({ provider: 'kimi', messages: [{ role: 'user', content: 'hello from a consumer' }] });
assert.equal(chat.finishReason, 'stop');
assert.ok(chat.content.length > 0);

let streamed = '';
let final;
for await (const event of supervisor.stream({ provider: 'glm', prompt: 'stream [[mock chunks=8]]' })) {
  if (event.type === 'delta') streamed += event.text;
  else if (event.type === 'result') final = event.result;
}
assert.equal(streamed, final?.content);

const executed = await supervisor.execute({ handler: new URL('./handler.mjs', import.meta.url), name: 'double', input: { n: 21 } });
assert.deepEqual(executed.output, { doubled: 42, hasSession: true });

const timeout = await supervisor.chat({ provider: 'glm', prompt: '[[mock hang]]', timeoutMs: 100 }).catch((error) => error);
assert.ok(timeout instanceof SessionTimeoutError, `expected a SessionTimeoutError, got ${timeout}`);
assert.equal(timeout.code, 'ERR_SESSION_TIMEOUT');

const report = await supervisor.close({ timeoutMs: 5000 });
await mock.close();
console.log(
  `esm ok: chat ${chat.content.length} chars, ${streamed.length} streamed chars, execute ${JSON.stringify(executed.output)}, close ${JSON.stringify(report)}`,
);
