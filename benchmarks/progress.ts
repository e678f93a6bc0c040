// A one-line progress bar on stderr, drawn only when stderr is a terminal (CI logs and pipes get
// nothing). Redrawn per step, never on a timer: a timer would cost the main thread being measured.

export class Progress {
  readonly #total: number;
  readonly #enabled: boolean;
  readonly #started = Date.now();
  #done = 0;

  constructor(total: number, stream: NodeJS.WriteStream = process.stderr) {
    this.#total = Math.max(1, total);
    this.#enabled = stream.isTTY === true;
  }

  /** Shows what is running now (called before a step). */
  show(label: string): void {
    if (!this.#enabled) return;
    const width = 24;
    const filled = Math.round((this.#done / this.#total) * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const seconds = Math.round((Date.now() - this.#started) / 1000);
    const columns = process.stderr.columns ?? 100;
    const text = `${bar} ${this.#done}/${this.#total} ${seconds}s ${label}`;
    process.stderr.write(`\r\x1b[2K${text.slice(0, columns - 1)}`);
  }

  /** One step done. */
  tick(): void {
    this.#done++;
  }

  /** Clears the line, so that the report starts on a clean one. */
  end(): void {
    if (this.#enabled) process.stderr.write('\r\x1b[2K');
  }
}
