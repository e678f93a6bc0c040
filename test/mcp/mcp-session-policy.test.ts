// The HTTP session table's decisions, without a server: which session makes room, when a newcomer is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionActivity } from '../../src/apps/mcp/session-activity.ts';
import { admit, isExpired, resolveLimits } from '../../src/apps/mcp/session-policy.ts';

interface Fake {
  name: string;
  activity: SessionActivity;
}

function session(name: string, client: string, lastActive: number, state: { tool?: boolean; busy?: boolean; stream?: boolean } = {}): Fake {
  const activity = new SessionActivity(client, lastActive);
  if (state.tool || state.busy) activity.received({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'stats' } });
  if (state.tool && !state.busy) activity.sent({ jsonrpc: '2.0', id: 1, result: {} });
  if (state.stream) activity.streams = 1;
  return { name, activity };
}

const limits = resolveLimits({ maxSessions: 4, maxSessionsPerClient: 3 });

test('room is made from the cheapest idle session: left before connected, tool-less before used, then the oldest', () => {
  const table = [
    session('connected-fresh', 'a', 1, { stream: true }),
    session('left-used', 'b', 2, { tool: true }),
    session('left-fresh-new', 'c', 9),
    session('left-fresh-old', 'c', 5),
  ];
  const admission = admit(table, 'd', limits);
  assert.deepEqual(admission.admit && admission.evict.map((s) => s.name), ['left-fresh-old']);
  const withoutFresh = admit(table.slice(0, 2).concat(session('busy', 'c', 0, { busy: true }), session('busy2', 'c', 0, { busy: true })), 'd', limits);
  assert.deepEqual(withoutFresh.admit && withoutFresh.evict.map((s) => s.name), ['left-used']);
});

test('a table over its limit (concurrent initializes) is brought back under it', () => {
  const table = Array.from({ length: 7 }, (_, i) => session(`s${i}`, `client-${i}`, i));
  const admission = admit(table, 'new', limits);
  assert.deepEqual(admission.admit && admission.evict.map((s) => s.name), ['s0', 's1', 's2', 's3']);
});

test('busy sessions are never picked: the newcomer is refused, 429 for its own client, 503 for the table', () => {
  const own = [session('x1', 'x', 1, { busy: true }), session('x2', 'x', 2, { busy: true }), session('x3', 'x', 3, { busy: true })];
  const refusedOwn = admit(own, 'x', limits);
  assert.equal(!refusedOwn.admit && refusedOwn.status, 429);
  const other = admit(own, 'y', limits);
  assert.deepEqual(other.admit && other.evict, []);
  const full = admit([...own, session('y1', 'y', 4, { busy: true })], 'z', limits);
  assert.equal(!full.admit && full.status, 503);
});

test('expiry: only without a call running or a stream open; fresh sessions sooner than used ones', () => {
  const l = resolveLimits({ freshIdleMs: 10, idleMs: 100 });
  assert.equal(isExpired(session('f', 'a', 0).activity, 11, l), true);
  assert.equal(isExpired(session('f', 'a', 0).activity, 10, l), false);
  assert.equal(isExpired(session('u', 'a', 0, { tool: true }).activity, 11, l), false);
  assert.equal(isExpired(session('u', 'a', 0, { tool: true }).activity, 101, l), true);
  assert.equal(isExpired(session('b', 'a', 0, { busy: true }).activity, 1e9, l), false);
  assert.equal(isExpired(session('s', 'a', 0, { stream: true }).activity, 1e9, l), false);
});

test('a cancelled call no longer holds its session', () => {
  const { activity } = session('c', 'a', 0, { busy: true });
  assert.equal(activity.busy, true);
  activity.received({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
  assert.equal(activity.busy, false);
});
