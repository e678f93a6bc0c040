export interface FallbackTarget {
  provider: string;
  /** @default the provider's defaultModel */
  model?: string;
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
