// Top functions by self time of a V8 .cpuprofile (node --cpu-prof). Usage:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof benchmarks/run.ts stream-500
//   node benchmarks/profile-summary.ts /tmp/prof            (the main thread's profile in that folder)
//   node benchmarks/profile-summary.ts FILE.cpuprofile [--top 25] [--all] [--from MS]
// --from skips the first MS of the profile (start-up: module loading and TypeScript stripping).
// With a folder, picks the newest profile of thread 0 (Node names them CPU.<date>.<time>.<pid>.<tid>.<seq>).
// `(idle)` and `(program)` are listed apart: the table ranks what the thread did when it worked.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** The main thread's newest profile in a folder (tid 0 in Node's file name), else the newest. */
export function pickProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f, mtime: statSync(join(path, f)).mtimeMs, tid: f.split('.').at(-3) }))
    .sort((a, b) => b.mtime - a.mtime);
  const main = files.find((x) => x.tid === '0') ?? files[0];
  if (main === undefined) throw new Error(`no .cpuprofile in ${path}`);
  return join(path, main.f);
}

function where(frame: CallFrame): string {
  if (frame.url === '') return '';
  const url = frame.url.startsWith('file://') ? relative(process.cwd(), new URL(frame.url).pathname) : frame.url;
  return `${url}:${frame.lineNumber + 1}`;
}

export interface Entry {
  name: string;
  where: string;
  selfMs: number;
}

/** Self time per function (same name and location merged), in ms, largest first. */
export function selfTimes(profile: CpuProfile, fromMs = 0): Entry[] {
  const byNode = new Map<number, number>();
  let at = profile.startTime;
  const from = profile.startTime + fromMs * 1000;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from) byNode.set(id, (byNode.get(id) ?? 0) + delta);
  });
  const merged = new Map<string, Entry>();
  for (const node of profile.nodes) {
    const us = byNode.get(node.id);
    if (us === undefined) continue;
    const name = node.callFrame.functionName || '(anonymous)';
    const at = where(node.callFrame);
    const key = `${name}\n${at}`;
    const entry = merged.get(key) ?? { name, where: at, selfMs: 0 };
    entry.selfMs += us / 1000;
    merged.set(key, entry);
  }
  return [...merged.values()].sort((a, b) => b.selfMs - a.selfMs);
}

/** Where a function lives, coarsely: a package, a project folder, Node's internals, or native code. */
export function origin(e: Entry): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(e.where)?.[1];
  if (pkg !== undefined) return pkg;
  if (e.where === '') return '(native: postMessage, rss, ...)';
  if (e.where.startsWith('node:')) return 'node internals';
  const parts = e.where.replace(/:\d+$/, '').split('/');
  return parts.slice(0, parts.length > 2 ? 2 : 1).join('/');
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, all: { type: 'boolean', default: false }, from: { type: 'string', default: '0' } },
  });
  const target = positionals[0];
  if (target === undefined) {
    console.error('usage: node benchmarks/profile-summary.ts <file.cpuprofile | folder> [--top 25] [--all] [--from MS]');
    process.exit(2);
  }
  const file = pickProfile(target);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const fromMs = Number(values.from);
  const entries = selfTimes(profile, fromMs);
  const totalMs = (profile.endTime - profile.startTime) / 1000 - fromMs;
  const special = entries.filter((e) => SPECIAL.has(e.name));
  const working = entries.filter((e) => !SPECIAL.has(e.name));
  const gc = special.find((e) => e.name === '(garbage collector)')?.selfMs ?? 0;
  const busyMs = working.reduce((n, e) => n + e.selfMs, 0) + gc;
  console.log(
    `${basename(file)}: ${totalMs.toFixed(0)} ms profiled; ${special.map((e) => `${e.name} ${e.selfMs.toFixed(0)} ms`).join(', ')}; JS+GC ${busyMs.toFixed(0)} ms`,
  );
  console.log(`${'self ms'.padStart(9)} ${'% busy'.padStart(7)}  function  (url:line)`);
  const top = Number(values.top);
  const pct = (ms: number) => `${((ms / busyMs) * 100).toFixed(1).padStart(6)}%`;
  for (const e of (values.all ? entries : working).slice(0, top)) {
    console.log(`${e.selfMs.toFixed(1).padStart(9)} ${pct(e.selfMs)}  ${e.name}  ${e.where}`);
  }
  const byOrigin = new Map<string, number>();
  for (const e of working) byOrigin.set(origin(e), (byOrigin.get(origin(e)) ?? 0) + e.selfMs);
  const rollup = [...byOrigin].sort((a, b) => b[1] - a[1]).slice(0, 8);
  console.log(`by origin: ${rollup.map(([name, ms]) => `${name} ${pct(ms).trim()}`).join(', ')}, GC ${pct(gc).trim()}`);
}

if (import.meta.main) main();
