// The provider-call threads use Node's compile cache (src/pool/compile-cache.ts); the host and the
// handler threads are left as they are.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { compileCacheEnv } from '../../src/pool/compile-cache.ts';

test('a thread environment: the host env, read when asked, plus NODE_COMPILE_CACHE in the default folder', () => {
  const host: Record<string, string> = { PATH: '/bin' };
  const env = compileCacheEnv(host);
  assert.deepEqual(Object.entries(env), [
    ['PATH', '/bin'],
    ['NODE_COMPILE_CACHE', join(tmpdir(), 'node-compile-cache')],
  ]);
  assert.deepEqual(Object.entries(host), [['PATH', '/bin']], 'the host env is not changed');
  host['LATE'] = 'set after';
  assert.equal(Object.fromEntries(Object.entries(env))['LATE'], 'set after');
});

test("a thread environment keeps the host's own NODE_COMPILE_CACHE, and adds none when the cache is disabled", () => {
  assert.deepEqual(Object.entries(compileCacheEnv({ NODE_COMPILE_CACHE: '/own' })), [['NODE_COMPILE_CACHE', '/own']]);
  assert.deepEqual(Object.entries(compileCacheEnv({ NODE_DISABLE_COMPILE_CACHE: '1' })), [['NODE_DISABLE_COMPILE_CACHE', '1']]);
});

test('a session fills the compile cache from its thread; the host and the handler threads do not use it', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sessionpool-compile-cache-'));
  try {
    const script = `
      import { getCompileCacheDir } from 'node:module';
      import { createSupervisor } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};
      import { startMockProvider } from ${JSON.stringify(new URL('../../src/apps/mock/server.ts', import.meta.url).href)};
      const mock = await startMockProvider();
      const supervisor = createSupervisor({ threads: 1, logger: false, providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
      const chat = await supervisor.chat({ provider: 'kimi', prompt: 'hello' });
      const handler = ${JSON.stringify(new URL('../fixtures/handlers.ts', import.meta.url).href)};
      const executed = await supervisor.execute({ handler, name: 'environment', input: { name: 'NODE_COMPILE_CACHE' } });
      await supervisor.close();
      await mock.close();
      console.log(JSON.stringify({ finish: chat.finishReason, host: getCompileCacheDir() ?? null, hostEnv: process.env.NODE_COMPILE_CACHE ?? null, handler: executed.output }));`;
    const env = { ...process.env, TMPDIR: tmp } as NodeJS.ProcessEnv;
    delete env['NODE_COMPILE_CACHE'];
    delete env['NODE_DISABLE_COMPILE_CACHE'];
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''), { finish: 'stop', host: null, hostEnv: null, handler: null });
    const versions = readdirSync(join(tmp, 'node-compile-cache'));
    assert.equal(versions.length, 1);
    assert.ok(readdirSync(join(tmp, 'node-compile-cache', versions[0] as string)).length > 10, 'the thread wrote its modules to the cache');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
