// Piscina worker entry of provider calls: every task is one chat session, handed to the worker-side
// runtime in src/call. Sessions share this thread (dozens at once: provider calls are I/O); the
// supervisor talks to the thread over two long-lived Comlink channels opened when this module loads.
import { taskRunner } from '../src/worker/call/run-task.ts';
import { runChat } from '../src/worker/call/run-call.ts';

export default taskRunner(runChat, false);
