// A circuit breaker for one provider: closed → open after `failures` consecutive failures, or when
// at least `minRequests` calls in the last `windowMs` failed at `errorRate` or more; open → half-open
// once `cooldownMs` passed, letting one probe through; the probe's success closes it, its failure
// opens it again. Time comes in as arguments, so every path is a table test with a ManualClock.
import type { CircuitState, CircuitChange } from '../types/session.ts';
import type { CircuitSnapshot } from '../types/stats.ts';
import type { BreakerSettings } from '../types/options.ts';

export const DEFAULT_BREAKER: BreakerSettings = { failures: 5, errorRate: 0.5, windowMs: 30_000, minRequests: 10, cooldownMs: 10_000 };

const SLICES = 10;

interface Slice {
  start: number;
  calls: number;
  failures: number;
}

export class CircuitBreaker {
  readonly settings: BreakerSettings;
  #state: CircuitState = 'closed';
  #consecutive = 0;
  #openedAt = 0;
  #opened = 0;
  #probing = false;
  // The window as SLICES fixed slices, so that memory stays constant however many calls there are.
  #slices: Slice[] = [];
  readonly #onChange: (change: CircuitChange) => void;

  constructor(settings: BreakerSettings, onChange: (change: CircuitChange) => void = () => {}) {
    this.settings = settings;
    this.#onChange = onChange;
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** Whether a call could go now, without taking the half-open probe. */
  wouldPass(now: number): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') return now - this.#openedAt >= this.settings.cooldownMs;
    return !this.#probing;
  }

  /** Asks to send a call now; in half-open state only one probe goes, and its caller must report it. */
  pass(now: number): { ok: boolean; probe: boolean } {
    if (this.#state === 'closed') return { ok: true, probe: false };
    if (this.#state === 'open') {
      if (now - this.#openedAt < this.settings.cooldownMs) return { ok: false, probe: false };
      this.#move('halfOpen', now, `cool-down of ${this.settings.cooldownMs} ms over`);
    }
    if (this.#probing) return { ok: false, probe: false };
    this.#probing = true;
    return { ok: true, probe: true };
  }

  /** A call succeeded; `probe` says whether it was the half-open probe. */
  success(now: number, probe = false): void {
    if (this.#state === 'halfOpen' && probe) {
      this.#probing = false;
      this.#reset();
      return this.#move('closed', now, 'probe succeeded');
    }
    if (this.#state !== 'closed') return;
    this.#consecutive = 0;
    this.#count(now, false);
  }

  /** A call failed in a way that says the provider is unwell (see router.ts for what counts). */
  failure(now: number, probe = false): void {
    if (this.#state === 'halfOpen' && probe) {
      this.#probing = false;
      return this.#open(now, 'probe failed');
    }
    // Calls sent before the circuit opened still report; only the probe decides in half-open.
    if (this.#state !== 'closed') return;
    this.#consecutive++;
    const window = this.#count(now, true);
    if (this.#consecutive >= this.settings.failures) return this.#open(now, `${this.#consecutive} consecutive failures`);
    if (window.calls >= this.settings.minRequests && window.failures / window.calls >= this.settings.errorRate) {
      this.#open(now, `${window.failures} of ${window.calls} calls failed in ${this.settings.windowMs} ms`);
    }
  }

  /** The probe ended without a verdict (aborted, or refused for its own request): another may go. */
  released(probe: boolean): void {
    if (probe) this.#probing = false;
  }

  snapshot(now: number): CircuitSnapshot {
    const window = this.#window(now);
    const snap: CircuitSnapshot = {
      state: this.#state,
      consecutiveFailures: this.#consecutive,
      windowCalls: window.calls,
      windowFailures: window.failures,
      opened: this.#opened,
    };
    if (this.#state !== 'closed') snap.openedAt = this.#openedAt;
    return snap;
  }

  #open(now: number, reason: string): void {
    this.#openedAt = now;
    this.#opened++;
    this.#reset();
    this.#move('open', now, reason);
  }

  #reset(): void {
    this.#consecutive = 0;
    this.#slices = [];
  }

  #move(to: CircuitState, at: number, reason: string): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#onChange({ from, to, at, reason });
  }

  #count(now: number, failed: boolean): { calls: number; failures: number } {
    const width = this.settings.windowMs / SLICES;
    const start = Math.floor(now / width) * width;
    let slice = this.#slices.at(-1);
    if (slice === undefined || slice.start !== start) {
      slice = { start, calls: 0, failures: 0 };
      this.#slices.push(slice);
    }
    slice.calls++;
    if (failed) slice.failures++;
    return this.#window(now);
  }

  #window(now: number): { calls: number; failures: number } {
    const width = this.settings.windowMs / SLICES;
    this.#slices = this.#slices.filter((s) => s.start + width > now - this.settings.windowMs);
    let calls = 0;
    let failures = 0;
    for (const s of this.#slices) {
      calls += s.calls;
      failures += s.failures;
    }
    return { calls, failures };
  }
}
