// Piscina worker entry of `execute` handlers: their own threads, never shared with provider calls,
// one handler at a time (a handler may block or crash its thread; only its own session pays).
import { taskRunner } from '../src/worker/call/run-task.ts';
import { runExecute } from '../src/worker/call/run-execute.ts';

export default taskRunner(runExecute, true);
