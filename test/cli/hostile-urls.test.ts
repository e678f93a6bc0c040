// URLs that WHATWG's parser reads as carrying credentials although they are not written
// `scheme://user:password@host`: `https:\\user:pw@host`, `https:/user:pw@host`, `https:user:pw@host`
// (for http, https, ws, wss and ftp any run of slashes and backslashes, none included, starts the
// authority). Each form is refused as a URL with credentials, and no message quotes the password.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { createSupervisor } from '../../src/index.ts';
import { quoteURL, scrubURLs, urlSecrets } from '../../src/util/redact.ts';

const MAIN = new URL('../../src/apps/cli/main.ts', import.meta.url).pathname;
const FORMS = [
  'https:\\\\user:alphaomega42@127.0.0.1:9/v1',
  'https:/user:alphaomega42@127.0.0.1:9/v1',
  'https:user:alphaomega42@127.0.0.1:9/v1',
  'HTTP:\\/user:alphaomega42@127.0.0.1:9/v1',
];

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('URLs with credentials in WHATWG forms without "//": the parser sees them, so quoting and scrubbing do', () => {
  for (const form of FORMS) {
    assert.ok(new URL(form).password !== '', `the parser reads a password in ${form}`);
    assert.doesNotMatch(quoteURL(form), /alpha/, form);
    assert.doesNotMatch(scrubURLs(`failed to reach ${form} now`), /alpha/, form);
    assert.ok(urlSecrets(form).includes('alphaomega42'), form);
  }
  // Ordinary text is left alone.
  assert.equal(scrubURLs('error: write to user@example.com'), 'error: write to user@example.com');
});

test('createSupervisor({ providers: { x: { baseURL } } }) refuses every form, quoting no password', () => {
  for (const form of FORMS) {
    assert.throws(
      () => createSupervisor({ providers: { x: { baseURL: form, apiKey: 'k-0123456789', dialect: 'openai' } }, logger: false, threads: 1 }),
      (error: Error) => {
        assert.doesNotMatch(error.message, /alpha/, error.message);
        assert.match(error.message, /providers\.x\.baseURL/);
        return true;
      },
    );
  }
});

for (const command of ['chat', 'load']) {
  test(`${command} --base-url in a form without "//": refused at the flag (exit 2, one line), no password`, async () => {
    for (const form of FORMS) {
      const args = command === 'chat' ? ['chat', '--base-url', form, '--api-key-env', 'HOME', 'hi'] : ['load', '--base-url', form, '--duration', '1'];
      const { code, stdout, stderr } = await cli(...args);
      assert.equal(code, 2, `${form}: ${stderr}`);
      assert.doesNotMatch(stdout + stderr, /alpha/, stdout + stderr);
      assert.match(stderr, /--base-url: expected a URL without credentials/);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
    }
  });
}

// A Redis URL mistyped (`redis:/`, `redis:\\`, `redis:`, `redis//`, `redis ://`) is refused, and the
// refusal quoted it whole, password included: by flag and from REDIS_URL alike.
test('worker --redis / REDIS_URL mistyped with a password: exit 2, one line, no password', async () => {
  const env = { ...process.env, SESSIONPOOL_JOB_SECRET: 'test-job-secret-0123456789abcdef0123456789abcdef' };
  const run = async (args: string[], extra: Record<string, string>) => {
    try {
      await promisify(execFile)(process.execPath, [MAIN, 'worker', ...args], { env: { ...env, ...extra }, timeout: 30_000 });
      return { code: 0, stderr: '' };
    } catch (error) {
      return error as { code: number; stderr: string };
    }
  };
  for (const form of [
    'redis:/u:alphaomega42@127.0.0.1:1',
    'redis:\\\\u:alphaomega42@127.0.0.1:1',
    'redis:u:alphaomega42@127.0.0.1:1',
    'redis//u:alphaomega42@127.0.0.1:1',
    'redis ://u:alphaomega42@127.0.0.1:1',
  ]) {
    for (const [args, extra] of [
      [['--redis', form], {}],
      [[], { REDIS_URL: form }],
    ] as const) {
      const { code, stderr } = await run([...args], extra);
      assert.equal(code, 2, `${form}: ${stderr}`);
      assert.doesNotMatch(stderr, /alpha/, stderr);
      assert.match(stderr, /expected a redis:\/\/ or rediss:\/\/ URL/, stderr);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
    }
  }
});
