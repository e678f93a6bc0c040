// What the session engine is given by the supervisor that composes it: the clock, the dispatcher
// (through the seam), metrics, logging, inspection, routing's gate, and the way out for events.
import type { Clock } from '../util/clock.ts';
import type { Dispatcher, DispatchGate } from '../seam/seam.ts';
import type { SessionMetrics } from './metrics.ts';
import type { Logger } from 'pino';
import type { InspectOption } from '../types/options.ts';
import type { EngineEvents } from '../types/session.ts';

export interface EngineDeps {
  clock: Clock;
  dispatcher: Dispatcher;
  metrics: SessionMetrics;
  logger: Logger | undefined;
  inspect: InspectOption | undefined;
  abortGraceMs: number;
  gate?: DispatchGate;
  /** The supervisor's own events; each is built only when someone listens (`listening`). Never throws. */
  emit<K extends keyof EngineEvents>(type: K, event: EngineEvents[K][0]): void;
  listening(type: keyof EngineEvents): boolean;
  /** User code (an inspection observer) threw: report it, never rethrow. */
  report(error: unknown, source: 'inspect', sessionId: string | undefined): void;
}
