// `node benchmarks/cold-burst.ts [--runs N] [--load N] [--built]`
//
// A supervisor created and called at once with 300 mixed sessions (chat, 50-chunk streams,
// continuations; the provider answers in 200 ms or less) and an 800 ms deadline, in a fresh process per
// run, beside the plain SDK in the same situation (imported, then the same calls with
// AbortSignal.timeout(800)). `--load N` keeps N processes spinning on the machine meanwhile (a busy
// machine: load ~N), `--built` measures dist/ instead of the sources. Prints, per side, how many of
// the 300 completed in each run (median [min–max]) and when the threads were ready.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { startMockProcess } from '../src/apps/mock/process.ts';
import { spread } from './measure.ts';
import { fmt } from '../src/apps/report/format.ts';

const SESSIONS = 300;
const DEADLINE_MS = 800;

type Kind = 'chat' | 'stream' | 'continue';
const kindOf = (i: number): Kind => (['chat', 'stream', 'chat', 'continue'] as const)[i % 4] ?? 'chat';
const directive: Record<Kind, string> = {
  chat: '[[mock latencyMs=200]]',
  stream: '[[mock chunks=50 latencyMs=100]]',
  continue: '[[mock latencyMs=50 lengthRounds=1]]',
};

interface Run {
  completed: number;
  /** From the start of the process's work (import included) to the threads ready; engine only. */
  readyMs?: number;
  errors: Record<string, number>;
}

async function engineRun(baseURL: string, built: boolean): Promise<Run> {
  const started = performance.now();
  const { createSupervisor } = (await import(built ? '../dist/src/index.js' : '../src/index.ts')) as typeof import('../src/index.ts');
  const supervisor = createSupervisor({ logger: false, maxConcurrent: SESSIONS, providers: { openai: { baseURL, apiKey: 'sk-burst' } } });
  let readyMs: number | undefined;
  supervisor.ready().then(
    () => (readyMs = performance.now() - started),
    () => {},
  );
  const outcomes = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, i) => {
      const kind = kindOf(i);
      const request = { provider: 'openai', messages: [{ role: 'user' as const, content: `burst ${i} ${directive[kind]}` }], timeoutMs: DEADLINE_MS };
      try {
        if (kind !== 'stream') return ((await supervisor.chat(request)).content.length > 0 ? 'ok' : 'empty') as string;
        for await (const event of supervisor.stream(request)) if (event.type === 'result') return 'ok';
        return 'no result';
      } catch (error) {
        return (error as { code?: string }).code ?? String(error);
      }
    }),
  );
  await supervisor.close({ timeoutMs: 1000 });
  return tally(outcomes, readyMs);
}

async function sdkRun(baseURL: string): Promise<Run> {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ apiKey: 'sk-burst', baseURL, maxRetries: 0 });
  const outcomes = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, i) => {
      const kind = kindOf(i);
      const messages = [{ role: 'user' as const, content: `burst ${i} ${directive[kind]}` }];
      const signal = AbortSignal.timeout(DEADLINE_MS);
      try {
        if (kind === 'stream') {
          const stream = await client.chat.completions.create({ model: 'm', messages, stream: true }, { signal });
          for await (const _ of stream);
          return 'ok';
        }
        // A continuation is a second call with the cut answer: the SDK has none of its own.
        const first = await client.chat.completions.create({ model: 'm', messages }, { signal });
        if (first.choices[0]?.finish_reason === 'length') {
          await client.chat.completions.create(
            { model: 'm', messages: [...messages, { role: 'assistant', content: first.choices[0].message.content ?? '' }] },
            { signal },
          );
        }
        return 'ok';
      } catch (error) {
        return (error as Error).name;
      }
    }),
  );
  return tally(outcomes);
}

function tally(outcomes: string[], readyMs?: number): Run {
  const errors: Record<string, number> = {};
  for (const o of outcomes) if (o !== 'ok') errors[o] = (errors[o] ?? 0) + 1;
  return { completed: outcomes.filter((o) => o === 'ok').length, errors, ...(readyMs !== undefined ? { readyMs } : {}) };
}

/** A process that keeps one core busy until killed. */
function spinner(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      load: { type: 'string', default: '0' },
      built: { type: 'boolean', default: false },
      child: { type: 'string' },
      url: { type: 'string' },
    },
  });
  if (values.child !== undefined) {
    const url = values.url ?? '';
    console.log(JSON.stringify(values.child === 'sdk' ? await sdkRun(url) : await engineRun(url, values.built)));
    process.exit(0);
  }
  const mock = await startMockProcess();
  const spinners = Array.from({ length: Number(values.load) }, spinner);
  const self = fileURLToPath(import.meta.url);
  const runs: Record<'engine' | 'sdk', Run[]> = { engine: [], sdk: [] };
  try {
    for (let r = 0; r < Number(values.runs); r++) {
      for (const side of ['engine', 'sdk'] as const) {
        const args = [...process.execArgv, self, '--child', side, '--url', `${mock.url}/v1`, ...(values.built ? ['--built'] : [])];
        const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 60_000 });
        runs[side].push(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Run);
      }
    }
  } finally {
    for (const s of spinners) s.kill('SIGKILL');
    await mock.close();
  }
  const line = (side: 'engine' | 'sdk') => {
    const done = spread(runs[side].map((r) => r.completed));
    const ready = runs[side].flatMap((r) => (r.readyMs !== undefined ? [r.readyMs] : []));
    const readyText = ready.length > 0 ? `, threads ready at ${fmt(spread(ready).median)} ms` : '';
    return `${side.padEnd(6)} ${fmt(done.median)} [${fmt(done.min)}–${fmt(done.max)}] of ${SESSIONS} completed by the ${DEADLINE_MS} ms deadline${readyText}; failures of the last run ${JSON.stringify(runs[side].at(-1)?.errors ?? {})}`;
  };
  console.log(
    `cold burst (${values.built ? 'built package' : 'sources'}, ${values.runs} fresh processes per side, ${values.load} spinning processes, load ${fmt(loadavg()[0] ?? 0)}):`,
  );
  console.log(line('engine'));
  console.log(line('sdk'));
}

await main();
