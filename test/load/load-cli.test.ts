// `sessionpool load` as a user runs it: against the embedded mock (a child process), with every
// output; bad input refused before anything starts; Ctrl-C (SIGINT) still writes what was measured.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const MAIN = new URL('../../src/apps/cli/main.ts', import.meta.url).pathname;
const env = { ...process.env };
for (const name of ['MOONSHOT_API_KEY', 'KIMI_API_KEY', 'ZHIPUAI_API_KEY', 'GLM_API_KEY', 'ZAI_API_KEY', 'OPENAI_API_KEY']) delete env[name];

/** The JSON lines `--json` prints, parsed. */
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, 'load', ...args], { env, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('against the embedded mock: JSON lines, CSV and an HTML report with its charts; a 20 % 503 mock shows 20 %', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'load-cli-'));
  const [csvFile, htmlFile] = [join(dir, 'r.csv'), join(dir, 'r.html')];
  const { code, stdout, stderr } = await cli(
    '--concurrency',
    '1,4',
    '--requests',
    '10',
    '--stream',
    '--retries',
    '0',
    '--json',
    '--csv',
    csvFile,
    '--html',
    htmlFile,
    '--mock',
    'latencyMs=5 tokensPerSec=4000 errorRate=0.2 status=503',
  );
  assert.equal(code, 0, stderr);
  assert.match(stderr, /the embedded mock provider \(openai dialect, latencyMs=5/);
  assert.match(stderr, /^c=1: started \(10 requests\)$/m);
  assert.match(stderr, /^c=4 .*done in/m);
  const lines = jsonLines(stdout);
  assert.deepEqual(
    lines.map((l) => l.type),
    ['level', 'level', 'summary'],
  );
  for (const level of lines.slice(0, 2)) {
    assert.deepEqual(level.requests, { issued: 10, ok: 8, failed: 2, cancelled: 0 });
    assert.match(Object.keys(level.errors)[0] ?? '', /^ERR_PROVIDER 503/);
    assert.equal(level.tokens.output, 8 * 64, '64 output tokens asked by default, counted from usage');
    assert.ok(level.ttftMs.p50 >= 5);
  }
  assert.equal(lines[2].interrupted, false);
  const csvRows = (await readFile(csvFile, 'utf8')).trim().split('\n');
  assert.equal(csvRows.length, 3);
  const html = await readFile(htmlFile, 'utf8');
  assert.equal(html.match(/<svg/g)?.length, 7);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
});

test('the table is printed when --json is not given', async () => {
  const { code, stdout } = await cli('--concurrency', '2', '--requests', '4', '--mock', 'latencyMs=1');
  assert.equal(code, 0);
  assert.match(stdout, /^level +issued +ok +failed/m);
  assert.match(stdout, /^c=2 +4 +4 +0 /m);
  assert.match(stdout, /^c=2 e2e /m);
});

test('bad input exits 2 with a message and starts nothing', async () => {
  for (const [args, message] of [
    [['--concurrency', '0'], /--concurrency: expected whole numbers above 0/],
    [['--mock', 'latencyMs=5 bogus=1'], /"bogus" is not a mock field/],
    [['--provider', 'kimi'], /no API key for kimi: set MOONSHOT_API_KEY or KIMI_API_KEY/],
    [['--prompts', '/nonexistent/p.jsonl'], /cannot read/],
    [['--timeout', '-3'], /--timeout/],
    [['--html', '/nonexistent/dir/r.html'], /cannot write "\/nonexistent\/dir\/r.html"/],
  ] as const) {
    const { code, stderr } = await cli(...args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message);
    assert.doesNotMatch(stderr, /sessionpool load: the embedded mock/, 'no mock was started');
  }
});

test('SIGINT stops the run cleanly: exit 130, what was measured is printed and written, the mock is gone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'load-sigint-'));
  const csvFile = join(dir, 'r.csv');
  const child = spawn(process.execPath, [MAIN, 'load', '--concurrency', '1,2', '--requests', '100', '--json', '--csv', csvFile, '--mock', 'latencyMs=20'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  const exited = once(child, 'exit');
  // The first checkpoint line (10 of 100 requests ended): measured requests exist, the level is far from done.
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (/^c=1 +\d+\/100 ended/m.test(stderr)) resolve();
    });
  });
  child.kill('SIGINT');
  const [code] = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /stopping: in-flight requests are aborted/);
  const lines = jsonLines(stdout);
  assert.deepEqual(
    lines.map((l) => l.type),
    ['level', 'summary'],
    'the second level never started',
  );
  assert.equal(lines[0].interrupted, true);
  assert.ok(lines[0].requests.ok >= 10 && lines[0].requests.ok < 100);
  assert.equal(lines[0].requests.failed, 0);
  assert.equal(lines[1].interrupted, true);
  const csvRows = (await readFile(csvFile, 'utf8')).trim().split('\n');
  assert.equal(csvRows.length, 2);
  assert.match(csvRows[1]!, /,true,$/);
  const mockURL = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
  assert.ok(mockURL);
  await assert.rejects(fetch(mockURL), 'the mock process was closed');
});

test("--inspect serves the live view of the run's sessions while it goes", async () => {
  const child = spawn(process.execPath, [MAIN, 'load', '--concurrency', '1', '--requests', '100', '--inspect', '--json', '--mock', 'latencyMs=30'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let stderr = '';
  const url = await new Promise<string>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      const found = /^live view: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(stderr)?.[1];
      if (found) resolve(found);
    });
  });
  // 100 requests of 30 ms at least: the run is still going.
  const metrics = await fetch(new URL('metrics', url));
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /sessionpool_/);
  const page = await fetch(url);
  assert.match(await page.text(), /<svg|<html/i);
  child.kill('SIGINT');
  assert.equal((await exited)[0], 130);
  await assert.rejects(fetch(url), 'the live view was closed');
});
