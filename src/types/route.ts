/** A target a session falls back to (`providers.<name>.fallbacks`, or a request's `fallbacks`). */
export interface FallbackTarget {
  /** A configured provider's name (checked when the supervisor is created). */
  provider: string;
  /** @default the provider's defaultModel */
  model?: string;
}

/**
 * Why a session left a target (or `completed` for the one that answered): `failed` (its error is in
 * the entry), `circuit_open` (skipped: the provider's circuit was open), `no_budget` (its key could
 * not give budget before the deadline).
 */
export type RouteOutcome = 'completed' | 'failed' | 'circuit_open' | 'no_budget';

/** An entry of `metadata.route` (and of a failed session's `error.route`). */
export interface RouteEntry {
  /** The target's provider. */
  provider: string;
  /** The model asked of it. */
  model: string;
  /** How the session left it (`completed` for the target that answered). */
  outcome: RouteOutcome;
  /** Provider calls made on this target (retries included). */
  attempts: number;
  /** The error that made the session leave (failed targets). */
  error?: {
    /** The error's code (ERR_PROVIDER, ERR_PROVIDER_RESPONSE, …). */
    code: string;
    /** The error's message. */
    message: string;
    /** The HTTP status, when the provider answered. */
    status?: number;
  };
}
