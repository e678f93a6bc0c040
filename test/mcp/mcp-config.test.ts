// Where `sessionpool mcp` gets its providers, and what its CLI refuses before serving.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { configFromEnv, loadConfigFile } from '../../src/apps/mcp/config.ts';
import { describeProviders } from '../../src/apps/mcp/provider-list.ts';
import { MAIN, spawnMcp, text } from './mcp-helpers.ts';

describe('mcp configuration', () => {
  let dir: string;
  const file = async (name: string, content: string) => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sessionpool-mcp-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a config file: keys inline or from a named variable, a custom provider, the default provider', async () => {
    const path = await file(
      'ok.json',
      JSON.stringify({
        providers: { glm: { apiKeyEnv: 'MY_GLM_KEY' }, gateway: { baseURL: 'https://user:pw@gw.example/v1', apiKey: 'gw-secret-key', defaultModel: 'm1' } },
        defaultProvider: 'gateway',
        supervisor: { threads: 1, timeoutMs: 5000 },
      }),
    );
    const config = await loadConfigFile(path, { MY_GLM_KEY: 'glm-secret-key' });
    assert.equal(config.providers['glm']?.apiKey, 'glm-secret-key');
    assert.equal(config.defaultProvider, 'gateway');
    assert.deepEqual(config.supervisor, { threads: 1, timeoutMs: 5000 });
    const listed = describeProviders(config.providers, config.defaultProvider, {}, config.keyEnv);
    assert.deepEqual(
      listed.map((p) => [p.name, p.hasKey, p.isDefault]),
      [
        ['kimi', false, false],
        ['glm', true, false],
        ['openai', false, false],
        ['gateway', true, true],
      ],
    );
    assert.equal(listed.find((p) => p.name === 'gateway')?.baseURL, 'https://gw.example/v1');
    assert.doesNotMatch(JSON.stringify(listed), /secret|pw@/);
  });

  test('a bad config file says what is wrong and where', async () => {
    await assert.rejects(loadConfigFile(join(dir, 'missing.json')), /cannot read .*missing\.json.* \(ENOENT\)/);
    await assert.rejects(loadConfigFile(await file('bad.json', '{ nope')), /bad\.json": invalid JSON at line 1, column 3/);
    await assert.rejects(loadConfigFile(await file('typo.json', '{"provider": {}}')), /invalid config file .*Unrecognized key: "provider"/);
    await assert.rejects(loadConfigFile(await file('type.json', '{"supervisor": {"threads": "two"}}')), /`supervisor.threads`: .*expected number/i);
  });

  test('from the environment: the first provider with a key is the default', () => {
    assert.equal(configFromEnv({}).defaultProvider, 'kimi');
    assert.equal(configFromEnv({ GLM_API_KEY: 'k' }).defaultProvider, 'glm');
    assert.equal(configFromEnv({ KIMI_API_KEY: 'k', GLM_API_KEY: 'k' }).defaultProvider, 'kimi');
  });
});

describe('sessionpool mcp refuses bad options before serving', () => {
  const run = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, 'mcp', ...args], { timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      return error as { code: number; stdout: string; stderr: string };
    }
  };

  test('usage mistakes exit 2 with the reason; --help prints the usage', async () => {
    const notLoopback = await run('--mock', '--http', '0', '--host', '0.0.0.0');
    assert.equal(notLoopback.code, 2);
    assert.match(notLoopback.stderr, /not a loopback address: pass --allowed-host/);
    const port = await run('--http', 'eighty');
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--http must be a whole number from 0 to 65535, got "eighty"/);
    const sessions = await run('--mock', '--http', '0', '--max-sessions-per-client', '0');
    assert.equal(sessions.code, 2);
    assert.match(sessions.stderr, /--max-sessions-per-client must be a whole number from 1 to 1000000, got "0"/);
    const both = await run('--mock', '--config', 'x.json');
    assert.equal(both.code, 2);
    const help = await run('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: sessionpool mcp/);
  });
});

describe('a config file that names its own key variables', () => {
  let dir: string;
  let configPath: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sessionpool-mcp-keyenv-'));
    configPath = join(dir, 'config.json');
    const providers = { kimi: { apiKeyEnv: 'TEAM_KIMI_KEY' }, gateway: { baseURL: 'http://127.0.0.1:9/v1', apiKeyEnv: 'GATEWAY_TOKEN' } };
    await writeFile(configPath, JSON.stringify({ providers, defaultProvider: 'kimi' }));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the providers tool and the missing-key error name those variables, not the built-in ones', async () => {
    // A built-in variable is set, the named one is not: the config said where kimi's key comes from.
    const server = await spawnMcp(['--config', configPath], { MOONSHOT_API_KEY: 'sk-builtin-variable-1618' });
    try {
      const listed = await server.call('providers', {});
      const { providers } = listed.structuredContent as { providers: { name: string; hasKey: boolean; keyEnv: string[] }[] };
      const byName = Object.fromEntries(providers.map((p) => [p.name, p]));
      assert.deepEqual([byName['kimi']?.keyEnv, byName['kimi']?.hasKey], [['TEAM_KIMI_KEY'], false]);
      assert.deepEqual([byName['gateway']?.keyEnv, byName['gateway']?.hasKey], [['GATEWAY_TOKEN'], false]);
      assert.deepEqual(
        byName['glm']?.keyEnv,
        ['ZHIPUAI_API_KEY', 'GLM_API_KEY', 'ZAI_API_KEY'],
        'a provider the file does not name keeps its built-in variables',
      );
      for (const provider of ['kimi', 'gateway']) {
        const refused = await server.call('chat', { provider, prompt: 'hi' });
        assert.equal(refused.isError, true);
        const variable = provider === 'kimi' ? 'TEAM_KIMI_KEY' : 'GATEWAY_TOKEN';
        assert.match(text(refused), new RegExp(`^ERR_INVALID_REQUEST: .*"${provider}" has no API key: set ${variable}`));
        assert.doesNotMatch(text(refused), /MOONSHOT_API_KEY|KIMI_API_KEY|createSupervisor/);
      }
      const stats = (await server.call('stats', {})).structuredContent as { admitted: number };
      assert.equal(stats.admitted, 0, 'a provider without its key starts no session');
      assert.doesNotMatch(server.stderr(), /sk-builtin-variable/);
    } finally {
      await server.client.close();
    }
  });
});
