// Reads the conformance runner's result folders and prints one line per scenario, in words that
// cannot be mistaken for a test runner's closing line (the runner's own "Total: N passed, N failed"
// stays in its log).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [resultsDir = '', baselinePath = ''] = process.argv.slice(2);
const expected = new Set(
  readFileSync(baselinePath, 'utf8')
    .match(/^\s*-\s*([\w-]+)/gm)
    ?.map((line) => line.replace(/^\s*-\s*/, '')) ?? [],
);
let good = 0;
let baseline = 0;
let unexpected = 0;
for (const dir of readdirSync(resultsDir).sort()) {
  const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
  const checks = JSON.parse(readFileSync(join(resultsDir, dir, 'checks.json'), 'utf8')) as { status: string; errorMessage?: string }[];
  const failures = checks.filter((c) => c.status === 'FAILURE');
  const succeeded = checks.filter((c) => c.status === 'SUCCESS').length;
  if (failures.length === 0 && succeeded > 0) {
    good++;
    console.log(`  ok                ${scenario} (${succeeded} check${succeeded === 1 ? '' : 's'})`);
  } else if (expected.has(scenario)) {
    baseline++;
    console.log(`  not offered       ${scenario}: ${failures[0]?.errorMessage ?? 'no checks'}`);
  } else {
    unexpected++;
    console.log(`  UNEXPECTED        ${scenario}: ${failures.map((f) => f.errorMessage).join('; ')}`);
  }
}
console.log(`conformance scenarios: ${good} ok, ${baseline} in the baseline (features not offered), ${unexpected} unexpected`);
process.exitCode = unexpected === 0 && good > 0 ? 0 : 1;
