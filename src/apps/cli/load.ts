/** `sessionpool load`: the load-test harness (src/load); resolves with the exit code. */
import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidRequestError } from '../../api/public.ts';
import { startLiveView, type LiveView } from '../observe/live-view.ts';
import { parseLoadArgs, USAGE, type LoadCommand } from '../load/cli-options.ts';
import { htmlReport } from '../load/html.ts';
import { resolveLoadPlan } from '../load/plan.ts';
import { LoadProgress } from '../load/progress.ts';
import { readPromptFile, syntheticPrompts } from '../load/prompts.ts';
import { runLoad, type LoadResult } from '../load/run.ts';
import { csv, jsonLines, textReport } from '../load/text.ts';
import { checkTarget, resolveTarget } from '../load/target.ts';
import { runVerdict } from '../load/verdict.ts';
import type { Prompt } from '../load/plan.ts';

export async function runLoadCommand(argv: string[]): Promise<number> {
  const command = parseLoadArgs(argv);
  if (command.help) {
    console.log(USAGE);
    return 0;
  }
  checkTarget(command.target);
  let prompts: Prompt[];
  try {
    prompts = await promptsOf(command);
    await checkWritable([command.csv, command.html]);
    // The whole plan is checked before the mock or a supervisor starts.
    resolveLoadPlan({ ...command.options, provider: 'check', prompts });
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_INVALID_REQUEST') throw error;
    console.error(`sessionpool load: ${(error as Error).message} (see "sessionpool load --help")`);
    return 2;
  }
  const target = await resolveTarget(command.target);
  const stop = new AbortController();
  const onSigint = () => {
    process.stderr.write('\nstopping: in-flight requests are aborted; writing what was measured (Ctrl-C again to quit at once)\n');
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  try {
    process.stderr.write(`sessionpool load: ${target.description}\n`);
    const result = await measure(
      command,
      { ...command.options, provider: target.provider, providerConfig: target.providerConfig, prompts, ...(target.mock ? { mock: target.mock } : {}) },
      stop.signal,
    );
    await writeOutputs(command, result);
    if (result.interrupted) return 130;
    const verdict = runVerdict(result.levels, command.maxErrorRate);
    if (verdict.ok) return 0;
    process.stderr.write(`sessionpool load: ${verdict.reason} (exit 1)\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await target.close();
  }
}

/** An output file whose folder cannot be written is refused before a long run, not after it. */
async function checkWritable(files: Array<string | undefined>): Promise<void> {
  for (const file of files) {
    if (file === undefined) continue;
    const refuse = (why: string) => {
      const issue = `cannot write ${JSON.stringify(file)}: ${why}`;
      return new InvalidRequestError(`Invalid load options: ${issue}`, [issue]);
    };
    try {
      await access(dirname(resolve(file)), constants.W_OK);
    } catch {
      throw refuse('its folder does not exist or is not writable');
    }
    if ((await stat(file).catch(() => undefined))?.isDirectory()) throw refuse('it is a folder');
  }
}

async function promptsOf(command: LoadCommand): Promise<Prompt[]> {
  const p = command.prompts;
  return 'file' in p ? readPromptFile(p.file, p.outputTokens) : syntheticPrompts(p.inputTokens, p.outputTokens);
}

async function measure(command: LoadCommand, options: Parameters<typeof runLoad>[0], signal: AbortSignal): Promise<LoadResult> {
  const progress = new LoadProgress(resolveLoadPlan(options));
  let view: LiveView | undefined;
  try {
    return await runLoad(options, {
      signal,
      onSupervisor: async (supervisor) => {
        if (!command.inspect) return;
        view = await startLiveView(supervisor);
        process.stderr.write(`live view: ${view.url}\n`);
      },
      onLevelStart: (recorder) => progress.started(recorder),
      onSample: (recorder) => progress.sample(recorder),
      onLevelEnd: (report) => progress.ended(report),
    });
  } finally {
    progress.close();
    await view?.close();
  }
}

async function writeOutputs(command: LoadCommand, result: LoadResult): Promise<void> {
  if (command.json) for (const line of jsonLines(result)) console.log(line);
  else console.log(`\n${textReport(result)}`);
  if (command.csv !== undefined) {
    await writeFile(command.csv, csv(result));
    process.stderr.write(`wrote ${command.csv}\n`);
  }
  if (command.html !== undefined) {
    await writeFile(command.html, htmlReport(result));
    process.stderr.write(`wrote ${command.html}\n`);
  }
}
