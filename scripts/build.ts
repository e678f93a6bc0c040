// `npm run build` (and `prepack`): dist/ from the sources — JavaScript, .d.ts, declaration maps and
// source maps by tsc (tsconfig.build.json), plus the files read at run time that tsc does not copy.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

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

rmSync(dist, { recursive: true, force: true });
compile();
for (const asset of ASSETS) cpSync(join(root, asset), join(dist, asset));
rewriteDeclarationSpecifiers(dist);
console.log(`built ${dist}`);
