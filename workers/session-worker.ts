// Piscina worker entry: every task is one session, handed to the worker-side runtime in src/call.
// Sessions share this thread (dozens at once: provider calls are I/O); the supervisor talks to the
// thread over two long-lived Comlink channels that src/call/channel.ts opens when this module loads.
export { runTask as default } from '../src/call/run-task.ts';
