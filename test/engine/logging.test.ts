import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { harness, KEYS, rejection, user } from '../support/helpers.ts';

function capture(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('one line per session through a child logger bound to sessionId, requestId and provider; no key anywhere', async () => {
  const log = capture();
  const h = await harness({ supervisor: { logger: log.logger } });
  const seen: string[] = [];
  h.supervisor.on('transition', (e) => seen.push(JSON.stringify(e)));
  const ok = await h.supervisor.chat({ provider: 'kimi', messages: user('hello'), requestId: 'log-1' });
  const failed = await rejection(h.supervisor.chat({ provider: 'glm', prompt: '[[mock status=401]]', requestId: 'log-2' }));
  await h.close();

  const released = log.lines().filter((l) => l['msg'] === 'session released');
  const byRequest = new Map(released.map((l) => [l['requestId'], l]));
  assert.deepEqual(
    {
      sessionId: byRequest.get('log-1')?.['sessionId'],
      provider: byRequest.get('log-1')?.['provider'],
      outcome: byRequest.get('log-1')?.['outcome'],
      level: byRequest.get('log-1')?.['level'],
    },
    { sessionId: ok.metadata.session.sessionId, provider: 'kimi', outcome: 'completed', level: 20 },
  );
  assert.deepEqual(
    {
      provider: byRequest.get('log-2')?.['provider'],
      outcome: byRequest.get('log-2')?.['outcome'],
      code: byRequest.get('log-2')?.['code'],
      level: byRequest.get('log-2')?.['level'],
    },
    { provider: 'glm', outcome: 'failed', code: 'ERR_PROVIDER', level: 30 },
  );
  // The keys reached the provider (the mock saw them) but no output of ours carries them.
  assert.ok(h.mock.requests.some((r) => r.headers['authorization'] === `Bearer ${KEYS.kimi}`));
  const outputs = [
    log.text(),
    seen.join('\n'),
    JSON.stringify(ok),
    JSON.stringify(failed),
    failed.message,
    String(failed.stack),
    JSON.stringify(h.supervisor.stats()),
  ];
  for (const key of Object.values(KEYS)) for (const output of outputs) assert.ok(!output.includes(key), `a key leaked into ${output.slice(0, 80)}`);
});

test('the redaction paths of the default logger blank keys and Authorization', async () => {
  const { REDACT_PATHS } = await import('../../src/util/log.ts');
  const log = capture();
  const redacting = pino({ redact: REDACT_PATHS }, (log.logger as unknown as { [k: symbol]: unknown })[pino.symbols.streamSym] as pino.DestinationStream);
  redacting.info({ apiKey: 'secret-1', headers: { authorization: 'Bearer secret-2' }, provider: { apiKey: 'secret-3' } }, 'x');
  assert.ok(!/secret-/.test(log.text()), log.text());
  assert.match(log.text(), /\[Redacted\]/);
});
