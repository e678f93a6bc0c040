// What the host's main thread spent over a stretch of time (shared by bench and load).
import { performance } from 'node:perf_hooks';

/**
 * Main-thread time since start(), in ms. `activeMs`: event-loop utilisation "active" time, the
 * figure of the goals (wall time the loop was not idle, so it includes time the thread waited for
 * a core while the workers and the mock had them). `cpuMs`: this thread's own CPU time
 * (process.threadCpuUsage), which shows how much of `activeMs` was such waiting.
 */
export class LoopMeter {
  #elu = performance.eventLoopUtilization();
  #cpu = process.threadCpuUsage();

  start(): void {
    this.#elu = performance.eventLoopUtilization();
    this.#cpu = process.threadCpuUsage();
  }

  activeMs(): number {
    return performance.eventLoopUtilization(this.#elu).active;
  }

  cpuMs(): number {
    const used = process.threadCpuUsage(this.#cpu);
    return (used.user + used.system) / 1000;
  }
}
