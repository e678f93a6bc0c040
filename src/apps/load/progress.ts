// Progress while a run goes: on a terminal one live line per level, redrawn twice a second and left
// in place when the level ends; elsewhere (pipes, CI logs) plain lines: each tenth of a level's
// requests (every 5 s for timed levels) and one when it ends. Written to stderr.
import { fmt } from '../report/format.ts';
import type { LevelRecorder, LevelReport } from './level.ts';
import type { LoadPlan } from './plan.ts';

const REDRAW_MS = 500;
const PLAIN_EVERY_MS = 5000;

export class LoadProgress {
  readonly #out: NodeJS.WriteStream;
  readonly #live: boolean;
  readonly #plan: LoadPlan;
  #level: LevelRecorder | undefined;
  #timer: NodeJS.Timeout | undefined;
  #nextPlain = 0;

  constructor(plan: LoadPlan, out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#live = out.isTTY === true;
    this.#plan = plan;
  }

  started(recorder: LevelRecorder): void {
    this.#level = recorder;
    this.#nextPlain = this.#plainStep();
    if (this.#live) {
      this.#timer = setInterval(() => this.#draw(), REDRAW_MS);
      this.#timer.unref();
      this.#draw();
    } else {
      this.#out.write(`${recorder.label}: started (${this.#target()})\n`);
    }
  }

  /** After each request: the plain lines' checkpoints. */
  sample(recorder: LevelRecorder): void {
    if (this.#live || recorder !== this.#level) return;
    const budget = this.#plan.budget;
    // The last checkpoint of a level is its closing line.
    if ('requests' in budget && recorder.ended >= budget.requests) return;
    const reached = 'requests' in budget ? recorder.ended >= this.#nextPlain : performance.now() - recorder.startedAt >= this.#nextPlain;
    if (!reached) return;
    this.#nextPlain += this.#plainStep();
    this.#out.write(`${this.#line(recorder)}\n`);
  }

  ended(report: LevelReport): void {
    clearInterval(this.#timer);
    const recorder = this.#level;
    this.#level = undefined;
    const text = recorder ? `${this.#line(recorder)}  done in ${fmt(report.wallMs / 1000)} s${report.interrupted ? ' (stopped)' : ''}` : report.label;
    this.#out.write(this.#live ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }

  /** Leaves a clean line (a stop during a redraw). */
  close(): void {
    clearInterval(this.#timer);
    if (this.#live && this.#level !== undefined) this.#out.write('\n');
  }

  #plainStep(): number {
    return 'requests' in this.#plan.budget ? Math.max(1, Math.ceil(this.#plan.budget.requests / 10)) : PLAIN_EVERY_MS;
  }

  #target(): string {
    return 'requests' in this.#plan.budget ? `${this.#plan.budget.requests} requests` : `${fmt(this.#plan.budget.durationMs / 1000)} s`;
  }

  #draw(): void {
    if (this.#level === undefined) return;
    const columns = this.#out.columns ?? 120;
    this.#out.write(`\r\x1b[2K${this.#line(this.#level).slice(0, columns - 1)}`);
  }

  #line(r: LevelRecorder): string {
    const seconds = (performance.now() - r.startedAt) / 1000;
    const of = 'requests' in this.#plan.budget ? `/${this.#plan.budget.requests}` : '';
    const ttft = r.ttft.count > 0 ? `  ttft p50 ${fmt(r.ttft.percentile(50))} ms` : '';
    const e2e = r.e2e.count > 0 ? `  e2e p50 ${fmt(r.e2e.percentile(50))} ms` : '';
    return `${r.label.padEnd(7)} ${r.ended}${of} ended  ok ${r.ok}  failed ${r.failed}  in flight ${r.issued - r.ended}${ttft}${e2e}  ${fmt(seconds > 0 ? r.ok / seconds : 0)} req/s  ${fmt(seconds)} s`;
  }
}
