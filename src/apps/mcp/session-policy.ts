/**
 * Which HTTP sessions to close, and when to refuse a new one: pure decisions over SessionActivity.
 * - Expiry: a session with no tool call in flight and no GET stream open (its client left: the
 *   SDK's client closes without DELETE) closes after `freshIdleMs` if it never called a tool, or
 *   after `idleMs` if it did.
 * - Room: before anyone is refused, a session with no tool call in flight is closed to make room:
 *   the newcomer's own client's when that client is at `maxSessionsPerClient`, anyone's at
 *   `maxSessions`. Disconnected before connected, never-called-a-tool before used, then the least
 *   recently used. Only when every candidate is busy is the newcomer refused: 429 when its own
 *   client holds its limit, 503 when the whole table is busy.
 */
import type { SessionActivity } from './session-activity.ts';

export interface SessionLimits {
  maxSessions: number;
  maxSessionsPerClient: number;
  /** Tool calls in flight per client, over all its sessions: one client cannot take the whole engine. */
  maxCallsPerClient: number;
  /** TCP connections per client (http.ts); default derived from the two above. */
  maxConnectionsPerClient: number;
  idleMs: number;
  freshIdleMs: number;
}

const DEFAULT_LIMITS: SessionLimits = {
  maxSessions: 1000,
  maxSessionsPerClient: 100,
  maxCallsPerClient: 16,
  maxConnectionsPerClient: 0,
  idleMs: 1_800_000,
  freshIdleMs: 60_000,
};

/** The limits with their defaults; each must be a whole number from 1 (a 0 would make the expiry sweep spin). */
export function resolveLimits(given: Partial<SessionLimits>): SessionLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof SessionLimits)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw Object.assign(new Error(`expected \`${key}\` to be a whole number from 1 and up, got ${String(value)} (${typeof value})`), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
    limits[key] = value;
  }
  if (given.maxConnectionsPerClient === undefined) limits.maxConnectionsPerClient = limits.maxSessionsPerClient + limits.maxCallsPerClient + 32;
  return limits;
}

export type Admission<S> = { admit: true; evict: S[] } | { admit: false; status: 429 | 503; message: string };

interface Tracked {
  activity: SessionActivity;
}

export function isExpired(activity: SessionActivity, now: number, limits: SessionLimits): boolean {
  if (activity.busy || activity.connected) return false;
  return now - activity.lastActive > (activity.calledTool ? limits.idleMs : limits.freshIdleMs);
}

/** The session without a running call whose closing costs least (see the order above). */
export function leastValuable<S extends Tracked>(sessions: Iterable<S>): S | undefined {
  let pick: S | undefined;
  for (const session of sessions) {
    if (session.activity.busy) continue;
    if (pick === undefined || costsLess(session.activity, pick.activity)) pick = session;
  }
  return pick;
}

function costsLess(a: SessionActivity, b: SessionActivity): boolean {
  const rank = (x: SessionActivity) => (x.connected ? 2 : 0) + (x.calledTool ? 1 : 0);
  return rank(a) !== rank(b) ? rank(a) < rank(b) : a.lastActive < b.lastActive;
}

export function admit<S extends Tracked>(sessions: readonly S[], client: string, limits: SessionLimits): Admission<S> {
  const evict: S[] = [];
  // Concurrent initializes can leave a table over its limit: close enough to get back under it.
  const own = sessions.filter((s) => s.activity.client === client);
  if (!makeRoom(own, limits.maxSessionsPerClient, evict)) {
    return {
      admit: false,
      status: 429,
      message: `Too many sessions: at most ${limits.maxSessionsPerClient} sessions per client, and each of yours has a tool call running`,
    };
  }
  if (!makeRoom(sessions, limits.maxSessions, evict)) {
    return { admit: false, status: 503, message: `Too many sessions: all ${limits.maxSessions} have a tool call running` };
  }
  return { admit: true, evict };
}

/** Adds to `evict` until `sessions` less those has room for one more; false when it cannot. */
function makeRoom<S extends Tracked>(sessions: readonly S[], limit: number, evict: S[]): boolean {
  let left = sessions.filter((s) => !evict.includes(s));
  while (left.length >= limit) {
    const victim = leastValuable(left);
    if (victim === undefined) return false;
    evict.push(victim);
    left = left.filter((s) => s !== victim);
  }
  return true;
}

/**
 * Whether a client may start `adding` more tool calls: refused (429) when its calls in flight over
 * all its sessions would pass `maxCallsPerClient`. The engine's slots and queue are shared by every
 * client: without this one client could fill them (each call held up to the deadline cap) and every
 * other client's calls would be refused as a full queue or time out waiting.
 */
export function callRefusal<S extends Tracked>(sessions: Iterable<S>, client: string, adding: number, limits: SessionLimits): string | undefined {
  if (adding === 0) return undefined;
  let running = 0;
  for (const session of sessions) if (session.activity.client === client) running += session.activity.requests.toolCalls;
  if (running + adding <= limits.maxCallsPerClient) return undefined;
  return `Too many tool calls: at most ${limits.maxCallsPerClient} in progress per client, and ${running} of yours are`;
}
