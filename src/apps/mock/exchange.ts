/** One request/response exchange: its timers, and the pacing of a response plan onto the socket. */
import type { ServerResponse } from 'node:http';
import type { ResponsePlan } from './plan.ts';
import type { MockBehaviour, MockRequestRecord } from './types.ts';

const DEFAULT_DRIP_BYTES = 16;

export class Exchange {
  readonly record: MockRequestRecord;
  readonly res: ServerResponse;
  /** The mock itself destroyed the socket (behaviour `reset`): not an early close by the client. */
  resetByServer = false;
  ended = false;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(record: MockRequestRecord, res: ServerResponse) {
    this.record = record;
    this.res = res;
  }

  /** Runs `fn` after `ms` unless the exchange has ended by then. */
  later(ms: number, fn: () => void): void {
    if (this.ended) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.ended) fn();
    }, ms);
    this.#timers.add(timer);
  }

  /** Marks the exchange ended and clears its timers. */
  end(): void {
    this.ended = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Destroys the socket once what was written has been flushed. */
  destroySocket(): void {
    this.resetByServer = true;
    const socket = this.res.socket;
    // An empty write's callback runs once everything queued before it (corked data included) is flushed.
    if (socket) socket.write('', () => socket.destroy());
  }

  /** Writes a plan: headers now, then the segments (at once, paced by the plan's interval or dripped), then `after`. */
  write(plan: ResponsePlan, b: MockBehaviour): void {
    const { res } = this;
    if (plan.statusText !== undefined) res.writeHead(plan.status, plan.statusText, plan.headers);
    else res.writeHead(plan.status, plan.headers);
    this.record.respondedAt = performance.now();
    const finish = (): void => {
      if (plan.after === 'end') res.end();
      else if (plan.after === 'reset') this.destroySocket();
    };
    if (plan.raw !== undefined) return void res.end(plan.raw);
    const dripMs = b.dripMs ?? 0;
    const chunkDelayMs = plan.intervalMs ?? 0;
    if (dripMs > 0) {
      const bytes = Buffer.from(plan.segments.join(''));
      const size = Math.max(1, Math.floor(b.dripBytes ?? DEFAULT_DRIP_BYTES));
      let offset = 0;
      const drip = (): void => {
        res.write(bytes.subarray(offset, (offset += size)));
        if (offset >= bytes.length) finish();
        else this.later(dripMs, drip);
      };
      res.flushHeaders();
      if (bytes.length === 0) finish();
      else drip();
    } else if (chunkDelayMs > 0 && plan.stream) {
      let index = 0;
      const next = (): void => {
        res.write(plan.segments[index++] ?? '');
        if (index >= plan.segments.length) finish();
        else this.later(chunkDelayMs, next);
      };
      res.flushHeaders();
      if (plan.segments.length === 0) finish();
      else next();
    } else {
      const all = plan.segments.join('');
      if (plan.after === 'end') return void res.end(all);
      if (all === '') res.flushHeaders();
      else res.write(all);
      finish();
    }
  }
}
