// A producer in a process of its own (the fault suite kills it -9): a supervisor on bullmq() that
// admits FAULTS_PRODUCER.sessions chats at once and prints one JSON line per event (admitted,
// transition, settled), epoch-millisecond times, then `{"type":"done"}` once all settled.
import { bullmq, createSupervisor, type TransitionEvent } from '../../src/index.ts';
import type { ProducerChildConfig } from '../support/processes.ts';

const config = JSON.parse(process.env['FAULTS_PRODUCER'] ?? '{}') as ProducerChildConfig;
const at = () => performance.timeOrigin + performance.now();
const print = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...event, at: at() })}\n`);

const transport = bullmq({
  connection: config.redisURL,
  queueName: config.queueName,
  ...(config.lostAfterMs !== undefined ? { lostAfterMs: config.lostAfterMs } : {}),
});
const supervisor = createSupervisor({
  transport,
  logger: false,
  maxConcurrent: config.maxConcurrent ?? 100,
  timeoutMs: config.timeoutMs,
  retry: { maxRetries: 0 },
});
supervisor.on('transition', (e: TransitionEvent) => print({ type: 'transition', requestId: e.requestId, sessionId: e.sessionId, to: e.to }));
await supervisor.ready();
print({ type: 'ready' });
const sessions = Array.from({ length: config.sessions }, (_, i) => {
  const requestId = `${config.prefix}-${i}`;
  print({ type: 'admitted', requestId, timeoutMs: config.timeoutMs });
  return supervisor.chat({ provider: 'kimi', prompt: `${requestId} says hello`, requestId, headers: { 'x-fault-session': requestId } }).then(
    (result) => print({ type: 'settled', requestId, ok: true, result: { content: result.content, host: result.metadata.session.host } }),
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
});
await Promise.all(sessions);
print({ type: 'done' });
await supervisor.close({ timeoutMs: 2000 });
