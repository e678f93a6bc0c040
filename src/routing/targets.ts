// Fallback targets as written in options and requests, and the route a session reports.
import { z } from 'zod';
import type { ChatCall, ResolvedProvider } from '../wire/protocol.ts';

export interface FallbackTarget {
  provider: string;
  /** @default the provider's defaultModel */
  model?: string;
}

export const fallbacksSchema = z.array(z.strictObject({ provider: z.string().min(1), model: z.string().min(1).optional() })).max(8);

/** One target of a session, resolved and validated like the request itself. */
export interface RouteTarget {
  provider: ResolvedProvider;
  call: ChatCall;
}

/** Why a session left a target (or `completed` for the one that answered). */
export type RouteOutcome = 'completed' | 'failed' | 'circuit_open' | 'no_budget';

/** An entry of `metadata.route` (and of a failed session's `error.route`). */
export interface RouteEntry {
  provider: string;
  model: string;
  outcome: RouteOutcome;
  /** Provider calls made on this target (retries included). */
  attempts: number;
  /** The error that made the session leave (failed targets). */
  error?: { code: string; message: string; status?: number };
}
