// A producer and a worker host (createWorker) in a process of their own, for close() while Redis is
// down: a close that never returns must not hang the test runner, so it hangs this process instead,
// which the test kills. Admits FAULTS_CLOSE.sessions chats, prints one JSON line per event (as
// producer-child.ts does); on a `close` line on stdin it closes both with `closeTimeoutMs` at once and
// prints `{"type":"closed","which":"supervisor"|"host","ms":...}` as each returns.
import { createInterface } from 'node:readline';
import { bullmq, createSupervisor, createWorker, type TransitionEvent, type WorkerHostOptions } from '../../src/index.ts';

interface CloseChildConfig {
  redisURL: string;
  queueName: string;
  sessions: number;
  timeoutMs: number;
  closeTimeoutMs: number;
  host: Omit<WorkerHostOptions, 'connection' | 'queueName'>;
}

const config = JSON.parse(process.env['FAULTS_CLOSE'] ?? '{}') as CloseChildConfig;
const at = () => performance.timeOrigin + performance.now();
const print = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...event, at: at() })}\n`);

const host = createWorker({ ...config.host, connection: config.redisURL, queueName: config.queueName });
const transport = bullmq({ connection: config.redisURL, queueName: config.queueName, lostAfterMs: 2000 });
const supervisor = createSupervisor({ transport, logger: false, timeoutMs: config.timeoutMs, retry: { maxRetries: 0 } });
supervisor.on('transition', (e: TransitionEvent) => print({ type: 'transition', requestId: e.requestId, sessionId: e.sessionId, to: e.to }));
await Promise.all([supervisor.ready(), host.ready()]);
print({ type: 'ready' });
for (let i = 0; i < config.sessions; i++) {
  const requestId = `close-${i}`;
  print({ type: 'admitted', requestId, timeoutMs: config.timeoutMs });
  supervisor.chat({ provider: 'kimi', prompt: `${requestId}`, requestId, headers: { 'x-fault-session': requestId } }).then(
    () => print({ type: 'settled', requestId, ok: true }),
    (error: { code?: string; message?: string; requestId?: string; sessionId?: string }) =>
      print({
        type: 'settled',
        requestId,
        ok: false,
        code: error.code,
        message: error.message,
        errorRequestId: error.requestId,
        errorSessionId: error.sessionId,
      }),
  );
}
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== 'close') continue;
  const timed = (which: string, closing: Promise<unknown>) => {
    const start = performance.now();
    return closing.then(
      () => print({ type: 'closed', which, ms: performance.now() - start }),
      (error: unknown) => print({ type: 'closed', which, ms: performance.now() - start, error: String(error) }),
    );
  };
  await Promise.all([
    timed('supervisor', supervisor.close({ timeoutMs: config.closeTimeoutMs })),
    timed('host', host.close({ timeoutMs: config.closeTimeoutMs })),
  ]);
  print({ type: 'all-closed' });
  break;
}
lines.close();
