// The command line and config files may misconfigure but never get a stack trace instead of one
// line, nor see a secret echoed; a load run that failed its criteria does not exit 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startMockProvider } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';

const MAIN = new URL('../../src/apps/cli/main.ts', import.meta.url).pathname;
const env: NodeJS.ProcessEnv = { ...process.env };
for (const name of ['MOONSHOT_API_KEY', 'KIMI_API_KEY', 'ZHIPUAI_API_KEY', 'GLM_API_KEY', 'ZAI_API_KEY', 'OPENAI_API_KEY', 'REDIS_URL']) delete env[name];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end (the timeout only turns a hang into a failure). */
async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { env: { ...env, ...extraEnv }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Exit 2 with one line on stderr that matches `message`, nothing on stdout. */
function assertUsageLine(run: Run, message: RegExp, what: string): void {
  assert.equal(run.code, 2, `${what}: ${run.stderr}`);
  assert.equal(run.stdout, '', what);
  assert.equal(run.stderr.trim().split('\n').length, 1, `${what}: one line, got ${run.stderr}`);
  assert.match(run.stderr, message, what);
  assert.doesNotMatch(run.stderr, /^\s+at /m, `${what}: no stack trace`);
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('load', () => {
  const one = ['--requests', '1', '--concurrency', '1'];

  test('a bad --base-url or an empty key: exit 2, one line naming the flag, before the target is announced', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--base-url', 'not a url'], /--base-url: expected an http:\/\/ or https:\/\/ URL, got "not a url"/],
      [['--base-url', 'ftp://127.0.0.1/v1'], /--base-url: expected an http:\/\/ or https:\/\/ URL/],
      [['--base-url', 'http://127.0.0.1:1/v1', '--api-key', ''], /--api-key: expected a key, got an empty string/],
      [
        ['--base-url', 'http://127.0.0.1:1/v1', '--api-key-env', 'SESSIONPOOL_TEST_UNSET'],
        /--api-key-env: expected a key, got SESSIONPOOL_TEST_UNSET, which is not set/,
      ],
      [['--base-url', 'http://127.0.0.1:1/v1', '--api-key-file', '/nonexistent/key'], /--api-key-file: cannot read "\/nonexistent\/key" \(ENOENT\)/],
      [['--base-url', 'http://127.0.0.1:1/v1', '--api-key', 'a', '--api-key-env', 'B'], /give one of --api-key, --api-key-env, not several/],
      [['--base-url', 'http://127.0.0.1:1/v1', '--api-key-env', 'NON_LATIN_KEY'], /--api-key-env: the key contains characters beyond Latin-1/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(['load', ...args, ...one], { NON_LATIN_KEY: 'sk-ключ-000000' });
      assertUsageLine(run, message, args.join(' '));
      assert.doesNotMatch(run.stderr, / at http|custom/, 'nothing announced');
    }
  });

  test('mock options and numeric flags out of range: exit 2, one line naming the field', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--mock', 'latencyMs=-5'], /--mock: latencyMs: expected a number from 0 to 86400000, got -5/],
      [['--mock', 'tokensPerSec=0'], /--mock: tokensPerSec: expected a number above 0/],
      [['--mock', 'status=99'], /--mock: status: expected a whole number from 100 to 599, got 99/],
      [['--mock', 'chunks=0'], /--mock: chunks: expected a whole number from 1/],
      [['--mock', 'errorRate=2'], /--mock: errorRate: expected a number from 0 to 1, got 2/],
      [['--max-error-rate', '1.5'], /--max-error-rate: expected a number from 0 to 1, got "1.5"/],
      [['--max-error-rate', 'none'], /--max-error-rate: expected a number from 0 to 1, got "none"/],
      [['--csv', tmpdir()], /cannot write ".*": it is a folder/],
      [['--input-tokens', '100000000'], /--input-tokens: expected a whole number from 1 to 200000, got "100000000"/],
    ];
    for (const [args, message] of cases) assertUsageLine(await cli(['load', ...args, ...one]), message, args.join(' '));
  });

  test('every request failing (an unreachable URL) exits 1 and says why', async () => {
    const port = await closedPort();
    const run = await cli(['load', '--base-url', `http://127.0.0.1:${port}/v1`, '--retries', '0', '--requests', '3', '--concurrency', '1']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^c=1 +3 +0 +3 /m, 'the report is still printed');
    assert.match(run.stderr, /the run failed: 3 of 3 requests failed \(100%\), more than --max-error-rate 0\.5 allows/);
  });

  test('--max-error-rate decides: a 50 % failing mock passes at 0.5 and fails at 0.25', async () => {
    const args = ['load', '--requests', '4', '--concurrency', '1', '--retries', '0', '--mock', 'latencyMs=1 errorRate=0.5 status=503'];
    const at = await cli([...args, '--max-error-rate', '0.5']);
    assert.equal(at.code, 0, at.stderr);
    const above = await cli([...args, '--max-error-rate', '0.25']);
    assert.equal(above.code, 1, above.stderr);
    assert.match(above.stderr, /the run failed: 2 of 4 requests failed \(50%\), more than --max-error-rate 0\.25 allows/);
  });

  describe('the key from the environment or a file (not on the command line, where ps shows it)', () => {
    const KEY = 'sk-load-key-from-file-7d1e';
    let mock: MockProvider;
    before(async () => {
      mock = await startMockProvider({ apiKey: KEY });
    });
    after(() => mock.close());

    test('--api-key-env NAME and --api-key-file FILE both reach the provider; the key is printed nowhere', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'load-key-'));
      const file = join(dir, 'key');
      await writeFile(file, `${KEY}\n`);
      for (const [flags, extraEnv] of [
        [['--api-key-env', 'MY_PROVIDER_KEY'], { MY_PROVIDER_KEY: KEY }],
        [['--api-key-file', file], {}],
      ] as const) {
        mock.reset();
        const run = await cli(['load', '--base-url', mock.baseURL('openai'), ...flags, '--retries', '0', '--requests', '2', '--concurrency', '1'], extraEnv);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^c=1 +2 +2 +0 /m, 'both requests were let in by the key');
        assert.equal(mock.totalRequests, 2);
        assert.ok(!run.stdout.includes(KEY) && !run.stderr.includes(KEY), 'the key is not printed');
      }
    });
  });
});

describe('config files', () => {
  const SECRET = 'sk-live-0a9b8c7d6e5f';
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'config-'));
  });

  test('a JSON syntax error is told by file, line and column, and quotes nothing of the file (mcp, worker)', async () => {
    const file = join(dir, 'broken.json');
    // The value is not quoted: JSON.parse's own message would quote the key that begins there.
    await writeFile(file, `{\n  "providers": {\n    "x": { "apiKey": ${SECRET} }\n  }\n}\n`);
    for (const args of [
      ['mcp', '--config', file],
      ['worker', '--config', file, '--redis', 'redis://127.0.0.1:1'],
    ]) {
      const run = await cli(args);
      assert.equal(run.code === 1 || run.code === 2, true, `${args[0]}: ${run.stderr}`);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, /line 3, column 22/, `${args[0]} names the line and column`);
      assert.ok(run.stderr.includes(file), `${args[0]} names the file`);
      assert.ok(!run.stderr.includes('sk-live') && !run.stderr.includes('apiKey'), `${args[0]} quotes nothing: ${run.stderr}`);
    }
  });

  test('load --prompts: a line that is not JSON, or not an object, is told by line and column, not quoted', async () => {
    const file = join(dir, 'prompts.jsonl');
    await writeFile(file, `{"prompt": "fine"}\nOPENAI_API_KEY=${SECRET}\n"${SECRET}"\n`);
    const run = await cli(['load', '--prompts', file, '--requests', '1', '--concurrency', '1']);
    assertUsageLine(run, /prompts\.jsonl:2: invalid JSON at line 1, column 1/, 'prompts');
    assert.ok(!run.stderr.includes('sk-live') && !run.stderr.includes('OPENAI'), run.stderr);
    await writeFile(file, `"${SECRET}"\n`);
    const notObject = await cli(['load', '--prompts', file, '--requests', '1', '--concurrency', '1']);
    assertUsageLine(notObject, /prompts\.jsonl:1: expected a JSON object, got a string/, 'a string line');
    assert.ok(!notObject.stderr.includes('sk-live'), notObject.stderr);
  });
});

describe('other commands', () => {
  test('mock: a bad --port, --latency or an empty --api-key is one line and exit 2', async () => {
    for (const [args, message] of [
      [['--port', 'abc'], /--port: expected a whole number from 0 to 65535, got "abc"/],
      [['--port', '70000'], /--port: expected a whole number from 0 to 65535, got "70000"/],
      [['--latency=-1'], /--latency: expected a whole number from 0 to 86400000, got "-1"/],
      [['--api-key', ''], /--api-key: expected a key, got an empty string/],
    ] as const) {
      assertUsageLine(await cli(['mock', ...args]), message, args.join(' '));
    }
  });

  test('startMockProvider refuses numbers out of range before it listens (ERR_INVALID_REQUEST naming the field)', async () => {
    for (const [options, message] of [
      [{ latencyMs: -5 }, /`latencyMs`: expected a number from 0 to 86400000, got -5/],
      [{ defaults: { tokensPerSec: 0 } }, /`defaults.tokensPerSec`: expected a number above 0/],
      [{ defaults: { status: 99 } }, /`defaults.status`: expected a whole number from 100 to 599, got 99/],
      [{ maxRecords: 0 }, /`maxRecords`: expected a whole number from 1/],
      [{ apiKey: '' }, /`apiKey`: expected a key, got an empty string/],
    ] as const) {
      const outcome: unknown = await startMockProvider(options).then(
        (mock) => mock,
        (error: unknown) => error,
      );
      if (!(outcome instanceof Error)) {
        await (outcome as MockProvider).close();
        assert.fail(`${JSON.stringify(options)} was accepted`);
      }
      assert.equal((outcome as Error & { code?: string }).code, 'ERR_INVALID_REQUEST', outcome.message);
      assert.match(outcome.message, message);
    }
  });

  test('chat takes its key from --api-key-file and --api-key-env too, and prints it nowhere', async () => {
    const KEY = 'sk-chat-key-from-file-93ac';
    const mock = await startMockProvider({ apiKey: KEY });
    try {
      const file = join(await mkdtemp(join(tmpdir(), 'chat-key-')), 'key');
      await writeFile(file, `${KEY}\n`);
      for (const [flags, extraEnv] of [
        [['--api-key-file', file], {}],
        [['--api-key-env', 'CHAT_KEY'], { CHAT_KEY: KEY }],
      ] as const) {
        const run = await cli(['chat', '--provider', 'kimi', '--base-url', mock.baseURL('kimi'), ...flags, 'Hello'], extraEnv);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^Answer to "Hello"/);
        assert.ok(!run.stdout.includes(KEY) && !run.stderr.includes(KEY));
      }
    } finally {
      await mock.close();
    }
  });

  test('chat: a --timeout or --model the engine would refuse is a usage mistake (exit 2, one line)', async () => {
    const base = ['chat', '--base-url', 'http://127.0.0.1:1/v1', '--api-key', 'sk-chat-000000'];
    assertUsageLine(await cli([...base, '--timeout', '100000000000', 'hi']), /--timeout: expected a whole number from 1 to 86400000/, 'timeout');
    assertUsageLine(await cli([...base, '--model', '', 'hi']), /--model: expected a model name, got an empty string/, 'model');
  });
});
