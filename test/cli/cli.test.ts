import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startMockProvider } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { formatTable } from '../../src/apps/cli/table.ts';

const MAIN = new URL('../../src/apps/cli/main.ts', import.meta.url).pathname;
const env = { ...process.env };
for (const name of ['MOONSHOT_API_KEY', 'KIMI_API_KEY', 'ZHIPUAI_API_KEY', 'GLM_API_KEY', 'ZAI_API_KEY']) delete env[name];

/** Runs the CLI; resolves with its exit code and output whatever the code (the timeout only turns a hang into a failure). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('demo (the main job) runs 12 sessions, one planned timeout, and exits 0 by itself', async () => {
  const { code, stdout } = await cli('demo');
  assert.equal(code, 0, stdout);
  assert.equal(stdout.match(/^released /gm)?.length, 12);
  const rows = stdout.split('\n').filter((l) => /^s\d\d [0-9a-f]{8}/.test(l));
  assert.equal(rows.filter((r) => / kimi /.test(r)).length, 6);
  assert.equal(rows.filter((r) => / glm /.test(r)).length, 6);
  assert.equal(rows.filter((r) => / completed /.test(r)).length, 11);
  assert.equal(stdout.match(/ERR_SESSION_TIMEOUT/g)?.length, 1);
  assert.match(stdout, /continued: 3 rounds/);
  assert.match(stdout, /streamed: \d+ deltas/);
  assert.match(stdout, /12 sessions: 11 completed, 1 timed out, 0 failed, 12 released/);
});

describe('chat', () => {
  let mock: MockProvider;
  before(async () => {
    mock = await startMockProvider();
  });
  after(() => mock.close());

  test('without a key it says which variable to set', async () => {
    const kimi = await cli('chat', '--provider', 'kimi', 'hi');
    assert.equal(kimi.code, 2);
    assert.match(kimi.stderr, /MOONSHOT_API_KEY/);
    const glm = await cli('chat', '--provider', 'glm', 'hi');
    assert.equal(glm.code, 2);
    assert.match(glm.stderr, /ZHIPUAI_API_KEY/);
    assert.equal(mock.totalRequests, 0);
  });

  test('against a base URL it prints the answer, streamed or not, and never the key', async () => {
    for (const stream of [[], ['--stream']]) {
      const { code, stdout } = await cli(
        'chat',
        '--provider',
        'kimi',
        '--base-url',
        mock.baseURL('kimi'),
        '--api-key',
        'sk-cli-secret',
        ...stream,
        'Hello there',
      );
      assert.equal(code, 0);
      assert.match(stdout, /^Answer to "Hello there"/);
      assert.match(stdout, /\[moonshot-v1-8k · stop · \d+\+16 tokens · 1 attempt\(s\)/);
      assert.ok(!stdout.includes('sk-cli-secret'));
    }
    assert.equal(mock.requests.at(-1)?.body?.stream, true);
  });

  test('with only --base-url it uses the plain OpenAI dialect and says so', async () => {
    mock.reset();
    const { code, stdout, stderr } = await cli('chat', '--base-url', mock.baseURL('openai'), '--api-key', 'k', 'Plain please');
    assert.equal(code, 0, stderr);
    assert.match(stderr, /no --provider given: using the plain openai dialect at http:\/\/127\.0\.0\.1:\d+\/v1/);
    assert.match(stdout, /^Answer to "Plain please"/);
    const body = mock.requests[0]?.body;
    assert.equal(body?.model, 'gpt-4o-mini');
    assert.equal('temperature' in (body ?? {}), false, 'no Kimi default temperature');
  });

  test('--provider NAME with --dialect and --model; without --model it refuses', async () => {
    mock.reset();
    const named = await cli(
      'chat',
      '--provider',
      'local',
      '--dialect',
      'glm',
      '--model',
      'my-model',
      '--base-url',
      mock.baseURL('glm'),
      '--api-key',
      'k',
      'Named',
    );
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stderr, '');
    assert.equal(mock.requests[0]?.body?.model, 'my-model');
    assert.equal(mock.requests[0]?.path, '/glm/api/paas/v4/chat/completions');
    const noModel = await cli('chat', '--provider', 'local', '--base-url', mock.baseURL('openai'), '--api-key', 'k', 'x');
    assert.equal(noModel.code, 2);
    assert.match(noModel.stderr, /pass --model/);
    const badDialect = await cli('chat', '--dialect', 'klingon', 'x');
    assert.equal(badDialect.code, 2);
    assert.match(badDialect.stderr, /--dialect must be one of kimi, glm, openai/);
  });

  test('a provider error prints its code and exits 1', async () => {
    const { code, stderr } = await cli('chat', '--provider', 'glm', '--base-url', mock.baseURL('glm'), '--api-key', 'k', 'x [[mock status=401]]');
    assert.equal(code, 1);
    assert.match(stderr, /^error ERR_PROVIDER: glm answered 401/);
  });
});

test('help exits 0; an unknown command or option exits 2', async () => {
  assert.equal((await cli('help')).code, 0);
  const chatHelp = await cli('help', 'chat');
  assert.equal(chatHelp.code, 0);
  assert.match(chatHelp.stdout, /--base-url/);
  assert.match(chatHelp.stdout, /--provider kimi\|glm\|openai\|NAME/);
  assert.match(chatHelp.stdout, /--dialect kimi\|glm\|openai/);
  assert.match((await cli('--help')).stdout, /demo .*\n.*chat/s);
  const unknown = await cli('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  assert.equal((await cli('demo', '--frob')).code, 2);
});

test('the table formatter sizes columns from their content and right-aligns numbers', () => {
  const table = formatTable(
    ['name', 'ms'],
    [
      ['s01', 5],
      ['session-2', 1234],
    ],
  );
  assert.deepEqual(table.split('\n'), ['name         ms', '---------  ----', 's01           5', 'session-2  1234']);
});
