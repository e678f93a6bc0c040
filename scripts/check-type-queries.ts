// `npm run lint`, beside dependency-cruiser: a type written as `import('../x.ts').Name` (or
// `typeof import(...)`) names another module without an import statement, and the layering check
// cannot see it (its parser never visits type queries). Relative modules are imported with
// `import type` instead, so that the check counts them; a dynamic `await import('./x.ts')` is
// seen by the check and allowed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const QUERY = /(?<!await\s*)\bimport\(\s*['"`]\.\.?\//g;
const found: string[] = [];
const walk = (dir: string): void => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (path.endsWith('.ts')) {
      for (const [i, line] of readFileSync(path, 'utf8').split('\n').entries()) if (QUERY.test(line)) found.push(`${path}:${i + 1}: ${line.trim()}`);
    }
  }
};
for (const root of ['src', 'workers']) walk(root);
for (const line of found) console.error(`relative type query (use import type): ${line}`);
process.exitCode = found.length === 0 ? 0 : 1;
