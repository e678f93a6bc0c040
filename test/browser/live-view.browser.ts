// The live view in a real browser: Debian's headless Chromium driven by playwright-core. Not part
// of `npm test` (a machine may have no Chromium): `npm run test:browser`, or test/browser/run.sh,
// which installs Chromium first. UPDATE_SCREENSHOT=1 also writes docs/live-view.png.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PLAN } from '../../src/apps/cli/demo.ts';
import { createSupervisor, startLiveView, startMockProvider, type ChatRequest, type LiveView, type Supervisor } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let mock: MockProvider;
let supervisor: Supervisor;
let view: LiveView;
let profile: string;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  mock = await startMockProvider();
  supervisor = createSupervisor({
    threads: 2,
    // A small limit, so that waves queue and the queue shows.
    maxConcurrent: 8,
    logger: false,
    retry: { baseDelayMs: 50, maxDelayMs: 100 },
    providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'browser-key' }, glm: { baseURL: mock.baseURL('glm'), apiKey: 'browser-key' } },
  });
  view = await startLiveView(supervisor, { windowMs: 10_000 });
  // A fresh profile for every run (Playwright takes it as launchPersistentContext's first argument).
  profile = await mkdtemp(join(tmpdir(), 'sessionpool-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 940 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => void (message.type() === 'error' && pageErrors.push(message.text())));
});

after(async () => {
  await context?.close();
  await view?.close();
  await supervisor?.close({ timeoutMs: 1000 });
  await mock?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** The demo's mix, plus two sessions that are retried once each (503, then an answer). */
function wave(n: number): ChatRequest[] {
  const retried = ['kimi', 'glm'].map(
    (provider, i): ChatRequest => ({ provider, prompt: `flaky ${n} [[mock status=500 failTimes=1 key=w${n}r${i} latencyMs=200]]` }),
  );
  return [...DEMO_PLAN.map((p) => p.request), ...retried];
}

const number = (selector: string) => page.locator(selector).textContent().then(Number);

test('the live view shows every session reach released, per thread, with timeouts and retries', async () => {
  await page.goto(view.url);
  await page.locator('#conn[data-state="live"]').waitFor();
  assert.equal(await page.title(), 'sessionpool · live view');

  // The threads that ran something: the pool fills the first thread until its event loop is busy
  // (src/pool/lanes.ts), so whether the second one runs anything depends on the machine's load.
  const threads = new Set<number>();
  supervisor.on('started', (event) => threads.add(event.threadId));
  // Three overlapping waves, 700 ms apart.
  const calls: Array<Promise<unknown>> = [];
  for (let n = 1; n <= 3; n++) {
    calls.push(...wave(n).map((request) => supervisor.chat(request).catch((error: { code: string }) => error.code)));
    if (n < 3) await new Promise((resolve) => setTimeout(resolve, 700));
  }
  const outcomes = await Promise.all(calls);
  const total = calls.length;
  assert.equal(outcomes.filter((o) => o === 'ERR_SESSION_TIMEOUT').length, 3);
  await page.waitForFunction((n) => Number(document.getElementById('count-released')?.textContent) >= n, total);

  assert.equal(await number('#count-released'), total);
  assert.equal(await number('#stat-admitted'), total);
  assert.equal(await number('#stat-timedOut'), 3);
  assert.equal(await number('#stat-retried'), 6);
  assert.equal(await number('#count-processing'), 0);
  assert.equal(await number('#queue-length'), 0);
  // The machine from its definition: five states, arrows between them.
  assert.deepEqual(await page.locator('#machine .node').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-state'))), [
    'created',
    'processing',
    'completed',
    'failed',
    'released',
  ]);
  assert.ok((await page.locator('#machine .edge').count()) >= 5);
  // The timeline: a queue lane and a lane per worker thread, a bar per run, timeouts and retries marked.
  const lanes = await page.locator('#timeline [data-lane]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-lane')));
  assert.equal(lanes[0], 'queue');
  assert.ok(threads.size >= 1);
  assert.equal(lanes.filter((l) => l?.startsWith('thread-')).length, threads.size, `${lanes.join()}: a lane per thread that ran a session`);
  assert.ok((await page.locator('#timeline [data-lane^="thread-"] rect.bar').count()) >= total);
  assert.equal(await page.locator('#timeline [data-lane^="thread-"] rect.bar.outcome-timeout').count(), 3);
  assert.equal(await page.locator('#timeline .timeout-mark').count(), 3);
  assert.equal(await page.locator('#timeline .retry-mark').count(), 6);
  assert.ok((await page.locator('#timeline [data-lane="queue"] rect.bar').count()) > 0, 'some sessions waited for a slot');
  // The newest releases, in the table.
  assert.equal(await page.locator('#recent tbody tr').count(), 14);

  // A screenshot with sessions in flight: two more waves, taken while the second one runs.
  const more = wave(4).map((request) => supervisor.chat(request).catch(() => undefined));
  await new Promise((resolve) => setTimeout(resolve, 600));
  more.push(...wave(5).map((request) => supervisor.chat(request).catch(() => undefined)));
  await page.waitForFunction(
    () => Number(document.getElementById('queue-length')?.textContent) > 0 && Number(document.getElementById('count-processing')?.textContent) > 0,
  );
  await page.waitForTimeout(500);
  const dir = await mkdtemp(join(tmpdir(), 'sessionpool-live-view-'));
  const shot = await page.screenshot({ path: join(dir, 'live-view.png'), fullPage: true });
  assert.ok(shot.length > 10_000);
  console.log(`screenshot: ${join(dir, 'live-view.png')}`);
  if (process.env['UPDATE_SCREENSHOT'] === '1') {
    const docs = new URL('../../docs/', import.meta.url);
    await mkdir(docs, { recursive: true });
    await page.screenshot({ path: new URL('live-view.png', docs).pathname, fullPage: true });
  }
  await Promise.all(more);
  await page.waitForFunction((n) => Number(document.getElementById('count-released')?.textContent) >= n, total + more.length);
  assert.deepEqual(pageErrors, []);
});
