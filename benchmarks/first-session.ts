// The first session of a fresh supervisor, reported apart from the rounds: created and called at
// once, it waits for its thread to start (createSupervisor starts the threads at once, so a host
// that creates the supervisor early never waits). The SDK's first call on a fresh client is beside it.
//
// Each run is a fresh process (this module again, as a child: `node first-session.ts --child URL
// KEY THREADS`): a thread's start depends on what its process loaded and compiled before, so the
// benchmark's own process would say little, and one run says little on a shared machine; the
// figures are the median [min–max] of the runs. From the sources (`npm run bench`) the built package
// (dist/, `npm run build`) is measured too when it is there; from an installed package
// (`sessionpool bench`), the built package alone.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createSupervisor } from '../src/index.ts';
import { fmt } from '../src/apps/report/format.ts';
import { spread, type Spread } from './measure.ts';

/** One run: one fresh process, one fresh supervisor. */
export interface FirstSession {
  /** From createSupervisor() to the first result, the call made at once (ms). */
  engineColdMs: number;
  /** From createSupervisor() until ready() (every thread up, ms). */
  readyMs: number;
  /** The second session, right after the first (ms). */
  engineSecondMs: number;
  /** The first call of a fresh SDK client (ms). */
  sdkFirstMs: number;
  /** The process's RSS with the supervisor ready and idle after its two sessions (bytes; the SDK not yet loaded on the main thread). */
  readyRss: number;
  /** The RSS of a bare Node process on the same machine, measured beside it (bytes). */
  bareRss: number;
}

/** What the package ran from: its .ts sources, or the built files of dist/. */
export type Build = 'sources' | 'built';

export interface FirstSessionFigures {
  build: Build;
  /** Fresh processes measured. */
  runs: number;
  engineColdMs: Spread;
  readyMs: Spread;
  engineSecondMs: Spread;
  sdkFirstMs: Spread;
  /** A ready supervisor's RSS over a bare Node process (MB). */
  rssOverBareMB: Spread;
  /** The built package is older than the sources it is measured beside (run `npm run build`). */
  stale?: true;
}

/** One run, in this process: measured from createSupervisor(), the package already imported. */
export async function firstSession(baseURL: string, apiKey: string, threads: number): Promise<FirstSession> {
  const prompt = 'first [[mock latencyMs=0]]';
  const started = performance.now();
  const supervisor = createSupervisor({ threads, logger: false, retry: { maxRetries: 0 }, providers: { openai: { baseURL, apiKey } } });
  let readyMs = Number.NaN;
  const ready = supervisor.ready().then(() => (readyMs = performance.now() - started));
  try {
    await supervisor.chat({ provider: 'openai', messages: [{ role: 'user', content: prompt }] });
    const engineColdMs = performance.now() - started;
    const second = performance.now();
    await supervisor.chat({ provider: 'openai', messages: [{ role: 'user', content: prompt }] });
    const engineSecondMs = performance.now() - second;
    await ready;
    const readyRss = process.memoryUsage.rss();
    // Loaded only now: the RSS above is the package's and its threads', not the SDK's on this thread.
    const { Baseline } = await import('./baseline.ts');
    const sdk = performance.now();
    await new Baseline(baseURL, apiKey).chat(prompt);
    return { engineColdMs, readyMs, engineSecondMs, sdkFirstMs: performance.now() - sdk, readyRss, bareRss: 0 };
  } finally {
    await supervisor.close({ timeoutMs: 5000 });
  }
}

interface Program {
  build: Build;
  file: string;
  stale: boolean;
}

/** This module as each build has it: itself, and from the sources the built copy when there is one. */
function programs(): Program[] {
  const self: Program = { build: import.meta.url.endsWith('.ts') ? 'sources' : 'built', file: fileURLToPath(import.meta.url), stale: false };
  if (self.build === 'built') return [self];
  const root = fileURLToPath(new URL('..', import.meta.url));
  const built = join(root, 'dist', 'benchmarks', 'first-session.js');
  if (!existsSync(built)) return [self];
  const builtAt = statSync(join(root, 'dist', 'workers', 'session-worker.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return [self, { build: 'built', file: built, stale: newestSource(root) > builtAt }];
}

function newestSource(root: string): number {
  let newest = 0;
  for (const dir of ['src', 'workers']) {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

async function runOnce(program: Program, baseURL: string, apiKey: string, threads: number): Promise<FirstSession> {
  const args = [...process.execArgv, program.file, '--child', baseURL, apiKey, String(threads)];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 60_000 });
  const run = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as FirstSession;
  const bare = await promisify(execFile)(process.execPath, ['-e', 'console.log(process.memoryUsage.rss())'], { timeout: 60_000 });
  return { ...run, bareRss: Number(bare.stdout.trim()) };
}

/** `runs` fresh processes per build, the builds taking turns (a busy moment weighs on both alike). */
export async function firstSessions(baseURL: string, apiKey: string, threads: number, runs: number): Promise<FirstSessionFigures[]> {
  const builds = programs();
  // The mock provider answers its first requests slower (its own code is cold): not the first run's to pay.
  const { Baseline } = await import('./baseline.ts');
  const warm = new Baseline(baseURL, apiKey);
  for (let i = 0; i < 3; i++) await warm.chat('warm-up [[mock latencyMs=0]]');
  const measured = builds.map(() => [] as FirstSession[]);
  for (let run = 0; run < runs; run++) {
    for (const [i, program] of builds.entries()) measured[i]?.push(await runOnce(program, baseURL, apiKey, threads));
  }
  return builds.map((program, i) => {
    const each = measured[i] ?? [];
    const of = (pick: (f: FirstSession) => number) => spread(each.map(pick));
    return {
      build: program.build,
      runs: each.length,
      engineColdMs: of((f) => f.engineColdMs),
      readyMs: of((f) => f.readyMs),
      engineSecondMs: of((f) => f.engineSecondMs),
      sdkFirstMs: of((f) => f.sdkFirstMs),
      rssOverBareMB: of((f) => (f.readyRss - f.bareRss) / 2 ** 20),
      ...(program.stale ? { stale: true as const } : {}),
    };
  });
}

export function firstSessionLine(f: FirstSessionFigures): string {
  const ms = (s: Spread) => `${fmt(s.median)} ms [${fmt(s.min)}–${fmt(s.max)}]`;
  const from = f.build === 'built' ? `the built package${f.stale ? ', older than the sources: npm run build' : ''}` : 'the sources';
  return `first session (fresh supervisor, called at once; ${from}, ${f.runs} fresh processes): ${ms(f.engineColdMs)} to its result (threads ready at ${ms(f.readyMs)}), the next ${ms(f.engineSecondMs)}; the SDK's first call on a fresh client ${ms(f.sdkFirstMs)}; RSS of the ready supervisor over bare Node ${fmt(f.rssOverBareMB.median)} MB [${fmt(f.rssOverBareMB.min)}–${fmt(f.rssOverBareMB.max)}]`;
}

if (import.meta.main && process.argv[2] === '--child') {
  const [baseURL = '', apiKey = '', threads = '2'] = process.argv.slice(3);
  // Exit explicitly: the SDK's keep-alive socket must not hold the run open.
  firstSession(baseURL, apiKey, Number(threads)).then(
    (figures) => {
      console.log(JSON.stringify(figures));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
