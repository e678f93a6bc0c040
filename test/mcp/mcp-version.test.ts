// `serverInfo.version` is the package's own version, from the .ts sources and from an installed dist/.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { spawnMcp } from './mcp-helpers.ts';

const root = new URL('../..', import.meta.url);
const manifest = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { name: string; version: string };

test('serverInfo.version over stdio is the version in package.json', async () => {
  const server = await spawnMcp(['--mock', '--threads', '1']);
  try {
    assert.equal(server.client.getServerVersion()?.version, manifest.version);
  } finally {
    await server.client.close();
  }
});

test('installed as a package (node_modules/sessionpool/dist/src/apps/mcp/), the module reads that package.json', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sessionpool-version-'));
  try {
    const installed = join(dir, 'node_modules', 'sessionpool');
    const built = join(installed, 'dist', 'src', 'mcp');
    await mkdir(built, { recursive: true });
    // The real manifest (its name and exports map) with a version no other file has.
    await writeFile(join(installed, 'package.json'), JSON.stringify({ ...manifest, version: '9.8.7-installed' }));
    // What the build emits for this module: the same code without its types.
    const source = await readFile(new URL('src/apps/mcp/package-version.ts', root), 'utf8');
    await writeFile(join(built, 'package-version.js'), stripTypeScriptTypes(source));
    const fromDist = (await import(pathToFileURL(join(built, 'package-version.js')).href)) as { packageVersion(): string };
    assert.equal(fromDist.packageVersion(), '9.8.7-installed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
