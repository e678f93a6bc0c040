import type { ContinuationSettings } from '../../wire/protocol.ts';

/** Whether another round may be paid for after `rounds` calls that produced `completionTokens` in all. */
export function continuationBudgetLeft(settings: ContinuationSettings, rounds: number, completionTokens: number): boolean {
  return rounds < settings.maxAttempts && completionTokens < settings.maxTotalTokens;
}
