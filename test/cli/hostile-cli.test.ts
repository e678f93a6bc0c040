// The operator's worker config file in shapes createWorker() does not take, combined with flags:
// each one is a usage error (exit 2) in one line naming the option, never a TypeError (exit 1)
// nor a value read in a way nobody wrote (a string spread into one handler per character).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const MAIN = fileURLToPath(new URL('../../src/apps/cli/main.ts', import.meta.url));
const env = { ...process.env, SESSIONPOOL_JOB_SECRET: 'test-job-secret-0123456789abcdef0123456789abcdef' };

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWith({}, ...args);
}

async function cliWith(extra: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const running = promisify(execFile)(process.execPath, [MAIN, ...args], { env: { ...env, ...extra }, timeout: 30_000 });
    // No input: a command that reads stdin (mcp) sees its end at once.
    running.child.stdin?.end();
    const { stdout, stderr } = await running;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('worker --config with "handlers" not a list, plus --handler: exit 2, one line naming `handlers`', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionpool-hostile-cli-'));
  const handler = join(dir, 'handler.mjs');
  writeFileSync(handler, 'export default () => 1;\n');
  for (const value of [5, 'abc', { a: 1 }, null]) {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ handlers: value }));
    // Port 1: nothing listens; the options are refused before any connection.
    const { code, stderr } = await cli('worker', '--redis', 'redis://127.0.0.1:1', '--config', config, '--handler', handler);
    assert.equal(code, 2, `handlers: ${JSON.stringify(value)}: ${stderr}`);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /`handlers`/, stderr);
  }
});

test('a key holding a control character (not CR, LF or NUL) is refused at the flag, not sent and retried as a "connection error"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionpool-hostile-key-'));
  for (const char of ['\x01', '\x1b', '\x7f']) {
    const file = join(dir, 'key');
    writeFileSync(file, `sk-control${char}key-0123456789\n`);
    // Port 9 (discard): nothing should be sent; a refusal comes before any connection.
    for (const command of ['chat', 'load']) {
      const args =
        command === 'chat'
          ? ['chat', '--base-url', 'http://127.0.0.1:9/v1', '--api-key-file', file, 'hi']
          : ['load', '--base-url', 'http://127.0.0.1:9/v1', '--api-key-file', file, '--duration', '1s'];
      const { code, stdout, stderr } = await cli(...args);
      assert.equal(code, 2, `${command} ${JSON.stringify(char)}: ${stdout}${stderr}`);
      assert.match(stderr, /--api-key-file: the key contains a control character/, stderr);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
    }
  }
});

// `/dev/zero` never ends: read whole, it grew the process past 12 GB in a minute without a word.
test('a key, secret, config or prompt file that never ends (/dev/zero) is refused in one line, at once', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['chat', '--base-url', 'http://127.0.0.1:9/v1', '--api-key-file', '/dev/zero', 'hi'], /--api-key-file: cannot read "\/dev\/zero" \(EFBIG\)/],
    [['worker', '--redis', 'redis://127.0.0.1:1', '--job-secret-file', '/dev/zero'], /--job-secret-file: could not read "\/dev\/zero" \(EFBIG\)/],
    [['worker', '--redis', 'redis://127.0.0.1:1', '--redis-password-file', '/dev/zero'], /--redis-password-file: could not read "\/dev\/zero" \(EFBIG\)/],
    [['worker', '--redis', 'redis://127.0.0.1:1', '--config', '/dev/zero'], /cannot read "\/dev\/zero" \(EFBIG\)/],
    [['mcp', '--config', '/dev/zero'], /cannot read "\/dev\/zero" \(EFBIG\)/],
    [['load', '--prompts', '/dev/zero', '--duration', '1s'], /cannot read "\/dev\/zero": larger than/],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await cli(...args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, expected, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  }
});

// pino's own refusal named no variable (exit 1), and `mcp --mock` had started its mock server by
// then: the command printed its error and never ended.
test('SESSIONPOOL_LOG_LEVEL that is no level: exit 2, one line naming the variable, no hang', async () => {
  for (const args of [
    ['worker', '--redis', 'redis://127.0.0.1:1'],
    ['mcp', '--mock'],
  ]) {
    const { code, stderr } = await cliWith({ SESSIONPOOL_LOG_LEVEL: 'bogus' }, ...args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, /SESSIONPOOL_LOG_LEVEL: expected one of fatal, error, warn/, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  }
  // Empty is unset: `mcp --mock` serves stdio and ends with its input (none here).
  const { code, stderr } = await cliWith({ SESSIONPOOL_LOG_LEVEL: '' }, 'mcp', '--mock');
  assert.equal(code, 0, stderr);
});

// A run that measured nothing (no request issued within its duration) exited 0, as if it had passed.
test('load that issues no request (--rate 0.001 --duration 1s): exit 1 saying so', async () => {
  const { code, stderr } = await cli('load', '--rate', '0.001', '--duration', '1s');
  assert.equal(code, 1, stderr);
  assert.match(stderr, /sessionpool load: the run failed: no measured request ended in it/, stderr);
});

// A provider (or a proxy in front of it) answering with an HTML error page: chat printed the page,
// line by line, after "error ERR_PROVIDER".
test('chat against a provider answering a multi-line error page: one line', async () => {
  const server = createServer((_request, response) => {
    response.writeHead(400, { 'content-type': 'text/html' });
    response.end(`<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Bad request</h1>\n${'    <p>filler</p>\n'.repeat(500)}  </body>\n</html>\n`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const { code, stderr } = await cli('chat', '--base-url', `http://127.0.0.1:${port}/v1`, '--api-key-env', 'HOME', 'hi');
    assert.equal(code, 1, stderr);
    const lines = stderr.trim().split('\n');
    // The note that no --provider was given, then the error.
    assert.equal(lines.length, 2, stderr);
    assert.match(lines[1] ?? '', /^error ERR_PROVIDER: openai answered 400/);
    assert.ok((lines[1] ?? '').length < 1100, `bounded: ${lines[1]?.length}`);
  } finally {
    server.close();
  }
});

// A config file that is JSON but not of the expected shape is as much the operator's mistake as one
// that is not JSON (exit 2); mcp exited 1 for it.
test('mcp --config of the wrong shape: exit 2, one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionpool-hostile-mcp-'));
  for (const text of ['[]', '{"provider": {}}', '{"supervisor": {"threads": "two"}}']) {
    const config = join(dir, 'config.json');
    writeFileSync(config, text);
    const { code, stderr } = await cli('mcp', '--config', config);
    assert.equal(code, 2, `${text}: ${stderr}`);
    assert.match(stderr, /^sessionpool mcp: invalid config file /, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  }
});

// Number() read "0x10" as 16, "1e1" as 10 and " 2" as 2: counts nobody wrote as such were taken.
test('worker --threads / --concurrency take digits only: exit 2, one line', async () => {
  for (const flag of ['--threads', '--concurrency']) {
    for (const value of ['0x10', '1e1', ' 2', '2.0', '-1', '']) {
      const { code, stderr } = await cli('worker', '--redis', 'redis://127.0.0.1:1', `${flag}=${value}`);
      assert.equal(code, 2, `${flag}=${JSON.stringify(value)}: ${stderr}`);
      assert.match(stderr, new RegExp(`${flag} must be a positive integer`), stderr);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
    }
  }
});
