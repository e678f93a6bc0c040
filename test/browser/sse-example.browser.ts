// examples/sse-server.ts and its page in a real browser (Debian's headless Chromium, playwright-core):
// the answer streams in through EventSource to the final event; Stop closes the stream, which aborts
// the session (the provider sees its request closed) and starts no new one (no EventSource reconnect).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startMockProvider } from '../../src/index.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SERVER = fileURLToPath(new URL('../../examples/sse-server.ts', import.meta.url));

let mock: Awaited<ReturnType<typeof startMockProvider>>;
let server: ChildProcess;
let output = '';
let url: string;
let profile: string;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

/** Resolves once the server printed a line matching `pattern` (bounded). */
function printed(pattern: RegExp, what: string, ms = 20_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sse-server printed no ${what} within ${ms} ms: ${output}`)), ms);
    const check = () => {
      const match = pattern.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      server.stdout?.off('data', check);
      resolve(match);
    };
    server.stdout?.on('data', check);
    check();
  });
}

before(async () => {
  mock = await startMockProvider();
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  server = spawn(process.execPath, ['--conditions=sessionpool-source', SERVER], {
    env: { ...env, PORT: '0', MOCK_URL: mock.url, MOONSHOT_API_KEY: '', KIMI_API_KEY: '', ZHIPUAI_API_KEY: '', GLM_API_KEY: '', ZAI_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  server.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  [, url = ''] = await printed(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 'listening line');
  profile = await mkdtemp(join(tmpdir(), 'sessionpool-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => void (message.type() === 'error' && pageErrors.push(message.text())));
});

after(async () => {
  await context?.close();
  server?.kill('SIGTERM');
  await mock?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

test('the page streams an answer to the done event, with the usage', async () => {
  await page.goto(url);
  assert.equal(await page.title(), 'sessionpool · SSE');
  await page.locator('#prompt').fill('Hello browser [[mock chunkDelayMs=20]]');
  await page.locator('#send').click();
  await page.locator('#status', { hasText: /^done: / }).waitFor({ timeout: 20_000 });
  assert.match((await page.locator('#answer').textContent()) ?? '', /^Answer to "Hello browser/);
  assert.match((await page.locator('#status').textContent()) ?? '', /^done: \d+ prompt \+ 16 completion tokens$/);
  assert.equal(mock.totalRequests, 1);
  assert.deepEqual(pageErrors, []);
});

test('Stop mid-stream aborts the session: the provider sees the request closed, and no new one starts', async () => {
  await page.locator('#prompt').fill('Stop me [[mock chunkDelayMs=300]]');
  await page.locator('#send').click();
  await page.locator('#answer', { hasText: /Answer/ }).waitFor({ timeout: 20_000 });
  await page.locator('#stop').click();
  assert.equal(await page.locator('#status').textContent(), 'stopped');
  const closed = await Promise.race([
    mock.waitForClosed(1),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the mock saw no request closed within 10 s')), 10_000).unref()),
  ]);
  assert.match(JSON.stringify(closed[0]?.body?.messages), /Stop me/);
  await printed(/aborted: the browser left after \d+ characters/, 'aborted line');
  assert.equal(mock.totalRequests, 2, 'the closed EventSource did not reconnect');
  assert.deepEqual(pageErrors, []);
});
