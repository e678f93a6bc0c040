// A CommonJS host: require() of the ES module package (Node >= 22.12 loads it synchronously,
// since the package has no top-level await in its entry points).
const assert = require('node:assert/strict');
const { createSupervisor, InvalidRequestError } = require('sessionpool');
const { startMockProvider } = require('sessionpool/mock');

async function main() {
  const mock = await startMockProvider();
  const supervisor = createSupervisor({
    threads: 1,
    logger: false,
    providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-cjs' } },
  });
  const result = await supervisor.chat({ provider: 'kimi', messages: [{ role: 'user', content: 'hello from CommonJS' }] });
  assert.equal(result.finishReason, 'stop');
  const invalid = await supervisor.chat({ provider: 'kimi' }).catch((error) => error);
  assert.ok(invalid instanceof InvalidRequestError);
  await supervisor.close();
  await mock.close();
  console.log(`cjs ok: ${result.content.length} chars`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
