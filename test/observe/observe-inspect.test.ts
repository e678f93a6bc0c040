// The `inspect` option: every session actor reports to the observer; without it the inspection
// modules are never even loaded. Run as a child process (SESSIONPOOL_OBSERVE_CHILD=1), this file is
// the process that must exit by itself; that is why it imports nothing from src statically.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { registerHooks } from 'node:module';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { ActorRefLike, InspectionEvent } from 'xstate';

interface SessionSnapshot {
  value: string;
  status: string;
  context: { sessionId: string };
}

if (process.env.SESSIONPOOL_OBSERVE_CHILD === '1') await childWithoutInspect();
else defineTests();

function defineTests(): void {
  test('the inspect callback sees every session actor, from @xstate.actor to a snapshot in released', async () => {
    const { harness, released, rejection, user, waitForTransition } = await import('../support/helpers.ts');
    const events: InspectionEvent[] = [];
    const h = await harness({ supervisor: { inspect: (e: unknown) => void events.push(e as InspectionEvent) } });
    try {
      const ok = await Promise.all([
        h.supervisor.chat({ provider: 'kimi', messages: user('one') }),
        h.supervisor.chat({ provider: 'glm', prompt: 'two' }),
        h.supervisor.chat({ provider: 'kimi', messages: user('three [[mock status=503 failTimes=1 key=inspect-retry]]') }),
      ]);
      const timedOut = await rejection(h.supervisor.chat({ provider: 'glm', prompt: '[[mock hang]]', timeoutMs: 100 }));
      assert.equal(timedOut.code, 'ERR_SESSION_TIMEOUT');
      const sessionIds = [...ok.map((r) => r.metadata.session.sessionId), String(timedOut['sessionId'])];
      for (const id of sessionIds) await waitForTransition(h, released(id));

      const byActor = new Map<ActorRefLike, InspectionEvent[]>();
      for (const e of events) byActor.set(e.actorRef, [...(byActor.get(e.actorRef) ?? []), e]);
      assert.equal(byActor.size, 4, 'one actor per session');
      const seen = new Map<string, { values: string[]; events: string[] }>();
      for (const list of byActor.values()) {
        assert.equal(list.filter((e) => e.type === '@xstate.actor').length, 1);
        const snapshots = list.flatMap((e) => (e.type === '@xstate.snapshot' ? [e.snapshot as unknown as SessionSnapshot] : []));
        const last = snapshots.at(-1);
        assert.equal(last?.value, 'released');
        assert.equal(last?.status, 'done');
        const events = list.flatMap((e) => (e.type === '@xstate.event' ? [e.event.type] : []));
        seen.set(last.context.sessionId, { values: snapshots.map((s) => s.value).filter(distinct), events });
      }
      assert.deepEqual([...seen.keys()].sort(), [...sessionIds].sort());
      assert.deepEqual(seen.get(sessionIds[3]!)?.values, ['created', 'processing', 'failed', 'released'], 'the timed-out session');
      assert.ok(seen.get(sessionIds[3]!)?.events.includes('TIMEOUT'));
      assert.deepEqual(seen.get(sessionIds[2]!)?.values, ['created', 'processing', 'completed', 'released'], 'the retried session');
      assert.ok(seen.get(sessionIds[2]!)?.events.includes('RETRY'), 'the retry reaches the inspector as an event');
    } finally {
      await h.close();
    }
  });

  test('an inspection observer object works too', async () => {
    const { harness, user } = await import('../support/helpers.ts');
    const types = new Set<string>();
    const h = await harness({ supervisor: { inspect: { next: (e: unknown) => void types.add((e as InspectionEvent).type) } } });
    try {
      await h.supervisor.chat({ provider: 'glm', messages: user('x') });
      assert.ok(types.has('@xstate.actor') && types.has('@xstate.snapshot') && types.has('@xstate.event'), [...types].join());
    } finally {
      await h.close();
    }
  });

  test('without inspect, a process never loads the inspector nor ws, and exits by itself after close()', async () => {
    const file = new URL(import.meta.url).pathname;
    // The timeout only turns a hang into a failure; nothing is asserted about how long it takes.
    const { stdout } = await promisify(execFile)(process.execPath, [file], { env: { ...process.env, SESSIONPOOL_OBSERVE_CHILD: '1' }, timeout: 60_000 });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { released: number; loaded: string[]; hooked: boolean };
    assert.equal(report.released, 3);
    assert.ok(report.hooked, 'the resolve hook saw xstate load');
    assert.deepEqual(report.loaded, []);
  });
}

const distinct = (value: string, i: number, all: string[]) => value !== all[i - 1];

/** The child: records every module resolved, runs sessions without `inspect`, closes, reports. */
async function childWithoutInspect(): Promise<void> {
  const resolved = new Set<string>();
  registerHooks({
    resolve(specifier, context, next) {
      const result = next(specifier, context);
      resolved.add(result.url);
      return result;
    },
  });
  const { createSupervisor, startMockProvider } = await import('../../src/index.ts');
  const mock = await startMockProvider();
  const supervisor = createSupervisor({ threads: 1, logger: false, providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'k' } } });
  await Promise.all([1, 2, 3].map((i) => supervisor.chat({ provider: 'kimi', messages: [{ role: 'user', content: `hi ${i}` }] })));
  await supervisor.close();
  await mock.close();
  const loaded = [...resolved].filter((url) => /\/node_modules\/(@statelyai\/inspect|ws|partysocket|isomorphic-ws)\//.test(url));
  const hooked = [...resolved].some((url) => url.includes('/node_modules/xstate/'));
  console.log(JSON.stringify({ released: supervisor.stats().states.released, loaded, hooked }));
}
