// `npm run build` (and `prepack`): dist/ from the sources — JavaScript, .d.ts, declaration maps and
// source maps by tsc (tsconfig.build.json), plus the files read at run time that tsc does not copy;
// then the two worker entries again, each bundled into one file by esbuild (see bundleWorkers).
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build, type Metafile } from 'esbuild';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

/** Read at run time by the live view (src/apps/observe/live-view.ts); fixtures JSON is imported, so tsc emits it. */
const ASSETS = ['src/apps/observe/live-view.html', 'src/apps/observe/live-view-draw.js', 'src/apps/observe/live-view-client.js'];

function compile(): void {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('typescript/package.json');
  const tsc = join(dirname(manifest), (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { tsc: string } }).bin.tsc);
  const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

/**
 * tsc rewrites `.ts` specifiers to `.js` in JavaScript but keeps them in declarations (TypeScript
 * issue 61037). TypeScript reads either, but editors and other tools expect `.js`; both spellings
 * have the same length, so the declaration maps stay exact.
 */
function rewriteDeclarationSpecifiers(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    const rewritten = text.replace(/((?:from |import\()\s*['"]\.\.?\/[^'"]*)\.ts(['"])/g, '$1.js$2');
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
}

/** The worker entries: src/pool/pool.ts starts its threads on these files, by these names. */
const WORKERS = ['workers/session-worker.ts', 'workers/handler-worker.ts'];
/** The optional peers: never inlined (no worker imports them today; one that did would load the user's copy). */
const OPTIONAL_PEERS = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependenciesMeta: object }).peerDependenciesMeta);
/**
 * Dependencies a worker imports only when a session needs them, from node_modules: zod checks
 * structured answers (src/worker/call/structured.ts) and would double the bundle every thread loads.
 */
const LAZY_DEPENDENCIES = ['zod'];

/**
 * Every thread imports its entry's whole module graph before it takes a session: ~270 files for a
 * provider-call thread (the `openai` SDK is ~240 of them), ~250 ms as tsc's files, against ~80 ms
 * as one minified file. So each entry replaces tsc's output with a bundle of its graph
 * (dependencies included; node: builtins and the optional peers stay imports). Names are kept:
 * errors report `new.target.name` and `constructor.name`. The source maps point at the sources
 * (shipped in src/; `openai`'s at its own files), without copies of them.
 */
async function bundleWorkers(): Promise<void> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: WORKERS,
    outdir: join(dist, 'workers'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    external: [...OPTIONAL_PEERS, ...LAZY_DEPENDENCIES],
    metafile: true,
    logLevel: 'warning',
  });
  writeFileSync(join(dist, 'workers', 'THIRD-PARTY-LICENSES.txt'), thirdPartyLicenses(result.metafile));
}

/** The licenses of the packages the bundles carry (openai, comlink: Apache-2.0, whose copies must come with the license). */
function thirdPartyLicenses(metafile: Metafile): string {
  const packages = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const name = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
    if (name !== undefined) packages.add(name);
  }
  const sections = [...packages].sort().map((name) => {
    const dir = join(root, 'node_modules', name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license?: string };
    const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
    if (file === undefined) throw new Error(`${name} has no license file to ship with the worker bundles`);
    return `${name}@${manifest.version} (${manifest.license ?? 'see below'}), bundled into ${relative(root, join(dist, 'workers'))}/*.js:\n\n${readFileSync(join(dir, file), 'utf8').trim()}\n`;
  });
  return `The worker bundles in this folder include code of these packages.\n\n${sections.join('\n\n')}`;
}

rmSync(dist, { recursive: true, force: true });
compile();
for (const asset of ASSETS) cpSync(join(root, asset), join(dist, asset));
rewriteDeclarationSpecifiers(dist);
await bundleWorkers();
console.log(`built ${dist}`);
