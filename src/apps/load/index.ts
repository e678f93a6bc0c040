// The load-test harness as a library (what `sessionpool load` runs): runLoad() and its outputs.
export { runLoad } from './run.ts';
export type { LoadHooks, LoadResult } from './run.ts';
export type { LoadOptions, LoadPlan, Prompt } from './plan.ts';
export type { LevelReport, HostCost } from './level.ts';
export type { Quantiles } from './distribution.ts';
export type { Sample } from './measure.ts';
export { syntheticPrompts, readPromptFile } from './prompts.ts';
export { arrivalSchedule } from './arrivals.ts';
export { textReport, jsonLines, csv } from './text.ts';
export { htmlReport } from './html.ts';
