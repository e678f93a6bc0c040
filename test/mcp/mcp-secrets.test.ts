// Secrets the operator wrote (a key inline in the config file, a key in a base URL) are never
// echoed: not by a config file that is not JSON, not by the providers tool.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfigFile } from '../../src/apps/mcp/config.ts';
import { describeProviders } from '../../src/apps/mcp/provider-list.ts';

const SECRET = 'sk-TOPSECRET-0123456789';

describe('secrets in the config file', () => {
  let dir: string;
  const file = async (name: string, content: string) => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sessionpool-mcp-secrets-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a file that is not JSON: the error tells what V8 found (and where, when it says), never the text around it, which V8 quotes, key included', async () => {
    const broken = [
      `{"providers":{"kimi":{"apiKey":${SECRET}}}}`, // the quotes forgotten
      `{"providers":{"kimi":{"apiKey":"${SECRET}" "defaultModel":"m"}}}`,
      `${SECRET}`,
      `{"providers":{"kimi":{"apiKey":"${SECRET}`,
    ];
    for (const [n, content] of broken.entries()) {
      const error = await loadConfigFile(await file(`broken-${n}.json`, content)).then(
        () => assert.fail(`expected broken-${n}.json to be refused`),
        (e: unknown) => e as Error,
      );
      assert.match(error.message, /broken-\d\.json": invalid JSON/, error.message);
      for (const piece of [SECRET, SECRET.slice(0, 8), 'TOPSECR']) assert.ok(!error.message.includes(piece), `${piece} echoed in: ${error.message}`);
    }
  });

  test('the providers tool shows a base URL without credentials in it, the query included', () => {
    const configured = {
      gateway: { baseURL: `https://user:${SECRET}@gw.example/v1?api-key=${SECRET}&x=1#${SECRET}`, apiKey: 'k' },
    };
    const [listed] = describeProviders(configured, 'gateway', {}).filter((p) => p.name === 'gateway');
    assert.equal(listed?.baseURL, 'https://gw.example/v1');
    assert.ok(!JSON.stringify(listed).includes('TOPSECRET'));
  });
});
