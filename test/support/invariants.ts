// The one invariant checker of the fault suite. A scenario admits its sessions through a Ledger
// (or feeds it a producer child's event lines), lets faults happen, tears everything down, then
// asks for the violations of the promise:
//   - every admitted session reached exactly one end state (completed | failed) and was released;
//   - its promise settled the same way, by its deadline + DEADLINE_SLACK_MS;
//   - every failure carries a documented `code` (and the scenario's allowed subset) and its ids;
//   - no provider request for a session arrived after that session ended (+ ARRIVAL_SLACK_MS, the
//     loopback transit of a request sent just before the end), nor more than retries allow;
//   - no provider request for a session nobody admitted (forged, replayed, orphaned jobs);
//   - no child process crashed (exited without the test asking) or is left running;
//   - no secret (provider key, Redis password, job secret) in any output, result, error or log.
// Times are epoch milliseconds (performance.timeOrigin + performance.now()) in this process.
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { ChatResult, Supervisor, TransitionEvent } from '../../src/index.ts';
import type { MockProvider, MockRequestRecord } from '../../src/apps/mock/server.ts';
import { everyChild, type Tracked } from './processes.ts';
import { within } from './waits.ts';

/** Every code the README documents for a failed session. */
export const DOCUMENTED_CODES = [
  'ERR_INVALID_REQUEST',
  'ERR_QUEUE_FULL',
  'ERR_SESSION_TIMEOUT',
  'ERR_SESSION_ABORTED',
  'ERR_PROVIDER',
  'ERR_PROVIDER_RESPONSE',
  'ERR_RESPONSE_TOO_LARGE',
  'ERR_WORKER_CRASHED',
  'ERR_SUPERVISOR_CLOSED',
  'ERR_CIRCUIT_OPEN',
  'ERR_TRANSPORT',
] as const;

/** How late past its deadline a session may end (timer and event-loop lag on a loaded 2-core box). */
export const DEADLINE_SLACK_MS = 1000;
/** A request sent just before its session ended may reach the mock this much after the end. */
export const ARRIVAL_SLACK_MS = 250;
/** The header that ties a provider request to its session (per-request `headers` travel with the job). */
export const SESSION_HEADER = 'x-fault-session';

export const now = (): number => performance.timeOrigin + performance.now();

interface Admitted {
  requestId: string;
  /** Which producer admitted it (a label). */
  producer: string;
  admittedAt: number;
  timeoutMs: number;
  sessionId?: string;
  settledAt?: number;
  outcome?: { ok: true; result: unknown } | { ok: false; code: string; message: string; requestId?: string; sessionId?: string; text: string };
  ends: Array<{ to: string; at: number }>;
  releasedAt?: number;
  /** Its producer died: it cannot end; a request for it after `abandonedAt` is a call for nobody. */
  abandonedAt?: number;
}

export interface LedgerOptions {
  /** Provider key, Redis password, job secret... */
  secrets: string[];
  /** The failure codes this scenario allows (a subset of DOCUMENTED_CODES). */
  codes: readonly string[];
  /** The producers' retry.maxRetries: a session may see (1 + maxRetries) requests per run, and 2 runs (one crash retry). */
  maxRetries: number;
}

export class Ledger {
  readonly #options: LedgerOptions;
  readonly #admitted = new Map<string, Admitted>();
  readonly #bySession = new Map<string, Admitted>();
  readonly #mocks: MockProvider[] = [];
  readonly #texts: Array<{ label: string; text: string }> = [];
  readonly #logs: string[] = [];
  readonly #children: Tracked[] = [];
  readonly #seenChildren: Set<Tracked>;
  readonly notes: string[] = [];
  readonly #problems: string[] = [];

  constructor(options: LedgerOptions) {
    this.#options = options;
    this.#seenChildren = new Set(everyChild);
  }

  /** A pino logger at debug whose lines the checker scans for secrets. */
  logger(): Logger {
    return pino({ level: 'debug' }, { write: (line: string) => void this.#logs.push(line) });
  }

  /** A violation the scenario observed itself (a close that did not return, a host that did not stop...). */
  problem(text: string): void {
    this.#problems.push(text);
  }

  /** Waits for `promise` up to `ms`; when it does not settle in time, that is a violation and the scenario goes on. */
  async wait<T>(promise: Promise<T>, ms: number, what: string): Promise<T | undefined> {
    try {
      return await within(promise, ms, what);
    } catch (error) {
      this.problem(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  mock(mock: MockProvider): void {
    this.#mocks.push(mock);
  }

  /** Extra text that must hold no secret (stats, reports...). */
  text(label: string, text: string): void {
    this.#texts.push({ label, text });
  }

  watch(supervisor: Supervisor, producer = 'test'): void {
    supervisor.on('transition', (e: TransitionEvent) => this.transition(producer, e.requestId, e.sessionId, e.to, now()));
  }

  transition(_producer: string, requestId: string, sessionId: string, to: string, at: number): void {
    const entry = this.#admitted.get(requestId);
    if (entry === undefined) return;
    entry.sessionId = sessionId;
    this.#bySession.set(sessionId, entry);
    if (to === 'completed' || to === 'failed') entry.ends.push({ to, at });
    if (to === 'released') entry.releasedAt ??= at;
  }

  admit(requestId: string, timeoutMs: number, producer = 'test', at = now()): Admitted {
    const entry: Admitted = { requestId, producer, admittedAt: at, timeoutMs, ends: [] };
    this.#admitted.set(requestId, entry);
    return entry;
  }

  /** supervisor.chat with the session header set, recorded; never rejects (the outcome is kept). */
  chat(supervisor: Supervisor, request: Parameters<Supervisor['chat']>[0] & { requestId: string; timeoutMs: number }): Promise<void> {
    const entry = this.admit(request.requestId, request.timeoutMs);
    return supervisor.chat({ ...request, headers: { ...request.headers, [SESSION_HEADER]: request.requestId } }).then(
      (result: ChatResult) => {
        entry.settledAt = now();
        entry.outcome = { ok: true, result };
      },
      (error: unknown) => {
        entry.settledAt = now();
        entry.outcome = failure(error);
      },
    );
  }

  settled(requestId: string, at: number, outcome: Admitted['outcome']): void {
    const entry = this.#admitted.get(requestId);
    if (entry === undefined) return;
    entry.settledAt = at;
    entry.outcome = outcome;
  }

  abandon(requestIds: Iterable<string>, at: number): void {
    for (const id of requestIds) {
      const entry = this.#admitted.get(id);
      if (entry !== undefined && entry.settledAt === undefined) entry.abandonedAt = at;
    }
  }

  /** Feeds the JSON lines a producer child printed (test/faults/producer-child.ts). */
  ingestProducer(label: string, stdout: string): void {
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      const requestId = String(event['requestId']);
      const at = Number(event['at']);
      if (event['type'] === 'admitted') this.admit(requestId, Number(event['timeoutMs']), label, at);
      if (event['type'] === 'transition') this.transition(label, requestId, String(event['sessionId']), String(event['to']), at);
      if (event['type'] === 'settled')
        this.settled(
          requestId,
          at,
          event['ok'] === true
            ? { ok: true, result: event['result'] }
            : {
                ok: false,
                code: String(event['code']),
                message: String(event['message']),
                requestId: event['errorRequestId'] as string | undefined,
                sessionId: event['errorSessionId'] as string | undefined,
                text: line,
              },
        );
    }
  }

  get admitted(): ReadonlyMap<string, Admitted> {
    return this.#admitted;
  }

  /** Resolves once every admitted (not abandoned) session settled and was released, or after `ms`. */
  async quiesce(ms: number): Promise<void> {
    const end = performance.now() + ms;
    const open = () => [...this.#admitted.values()].filter((e) => e.abandonedAt === undefined && (e.settledAt === undefined || e.releasedAt === undefined));
    while (open().length > 0 && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** Provider requests by session header. */
  requests(): Array<{ session: string | undefined; record: MockRequestRecord; at: number }> {
    return this.#mocks.flatMap((mock) =>
      mock.requests.map((record) => ({ session: record.headers[SESSION_HEADER], record, at: performance.timeOrigin + record.receivedAt })),
    );
  }

  /** Everything that went wrong; [] when the promise held. Call after the processes were stopped. */
  violations(): string[] {
    const out: string[] = [...this.#problems];
    const codes = new Set(this.#options.codes);
    const perSession = new Map<string, number[]>();
    for (const { session, at } of this.requests()) {
      if (session === undefined || !this.#admitted.has(session)) out.push(`provider request for a session nobody admitted (${session ?? 'no session header'})`);
      else perSession.set(session, [...(perSession.get(session) ?? []), at]);
    }
    const maxRequests = (1 + this.#options.maxRetries) * 2;
    for (const entry of this.#admitted.values()) {
      const id = `${entry.producer}/${entry.requestId}`;
      const arrivals = perSession.get(entry.requestId) ?? [];
      if (arrivals.length > maxRequests) out.push(`${id}: ${arrivals.length} provider requests (at most ${maxRequests} with retries and one crash re-run)`);
      if (entry.abandonedAt !== undefined) {
        const late = arrivals.filter((t) => t > (entry.abandonedAt as number) + ARRIVAL_SLACK_MS);
        if (late.length > 0)
          out.push(`${id}: ${late.length} provider request(s) after its producer died (${ms(late[0] as number, entry.abandonedAt)} ms after)`);
        continue;
      }
      const deadline = entry.admittedAt + entry.timeoutMs;
      if (entry.settledAt === undefined) out.push(`${id}: never settled (deadline was ${ms(now(), deadline)} ms ago)`);
      else if (entry.settledAt > deadline + DEADLINE_SLACK_MS) out.push(`${id}: settled ${ms(entry.settledAt, deadline)} ms past its deadline`);
      if (entry.ends.length !== 1)
        out.push(`${id}: ${entry.ends.length} end states (${entry.ends.map((e) => e.to).join(', ') || 'none'}), expected exactly one`);
      const end = entry.ends[0];
      if (end !== undefined && end.at > deadline + DEADLINE_SLACK_MS) out.push(`${id}: reached ${end.to} ${ms(end.at, deadline)} ms past its deadline`);
      if (entry.releasedAt === undefined) out.push(`${id}: never released`);
      const outcome = entry.outcome;
      if (outcome !== undefined && end !== undefined && (outcome.ok ? 'completed' : 'failed') !== end.to)
        out.push(`${id}: its promise ${outcome.ok ? 'resolved' : 'rejected'} but the session went to ${end.to}`);
      if (outcome !== undefined && !outcome.ok) {
        if (!(DOCUMENTED_CODES as readonly string[]).includes(outcome.code))
          out.push(`${id}: failed with an undocumented code ${outcome.code}: ${outcome.message}`);
        else if (!codes.has(outcome.code))
          out.push(`${id}: failed with ${outcome.code}, not one this scenario allows (${[...codes].join(', ')}): ${outcome.message}`);
        if (outcome.requestId !== entry.requestId) out.push(`${id}: its error carries requestId ${outcome.requestId}`);
      }
      const endAt = Math.min(end?.at ?? Number.POSITIVE_INFINITY, entry.settledAt ?? Number.POSITIVE_INFINITY);
      if (outcome?.ok === false && arrivals.length > 1)
        this.notes.push(
          `${id} failed ${outcome.code} after ${arrivals.length} provider requests, at ${arrivals.map((t) => ms(t, endAt)).join(', ')} ms from its end`,
        );
      const after = arrivals.filter((t) => t > endAt + ARRIVAL_SLACK_MS);
      if (after.length > 0) out.push(`${id}: ${after.length} provider request(s) after it ended (the first ${ms(after[0] as number, endAt)} ms after)`);
    }
    out.push(...this.#processViolations(), ...this.#secretViolations());
    return out;
  }

  #processViolations(): string[] {
    const out: string[] = [];
    for (const child of everyChild) {
      if (this.#seenChildren.has(child)) continue;
      this.#children.push(child);
      if (child.exit === undefined) out.push(`${child.label} (pid ${child.pid}) is still running`);
      else if (!child.exit.expected && !(child.mayExitOnItsOwn && child.exit.code === 0))
        out.push(`${child.label} crashed: exit ${child.exit.code ?? child.exit.signal}; stderr: ${child.stderr.slice(-2500)}`);
      else if (child.exit.signal !== 'SIGKILL' && child.exit.code !== 0 && !child.mustFail)
        out.push(`${child.label} did not exit cleanly on ${child.exit.signal ?? 'SIGTERM'}: code ${child.exit.code}; stderr: ${child.stderr.slice(-800)}`);
    }
    return out;
  }

  #secretViolations(): string[] {
    const texts: Array<{ label: string; text: string }> = [
      ...this.#texts,
      { label: 'supervisor log', text: this.#logs.join('') },
      { label: 'the violations themselves', text: this.#problems.join('\n') },
      ...this.#children.map((c) => ({ label: `${c.label} output`, text: c.output })),
      ...[...this.#admitted.values()].map((e) => ({
        label: `${e.producer}/${e.requestId} outcome`,
        text: e.outcome === undefined ? '' : outcomeText(e.outcome),
      })),
    ];
    const out: string[] = [];
    for (const secret of this.#options.secrets)
      for (const { label, text } of texts)
        if (text.includes(secret)) out.push(`a secret (${secret.slice(0, 4)}…) appears in ${label}: …${around(text, secret)}…`);
    return out;
  }

  /** A one-line summary for the test's log. */
  summary(): string {
    const all = [...this.#admitted.values()];
    const completed = all.filter((e) => e.outcome?.ok === true).length;
    const failed = new Map<string, number>();
    for (const e of all) if (e.outcome !== undefined && !e.outcome.ok) failed.set(e.outcome.code, (failed.get(e.outcome.code) ?? 0) + 1);
    const open = all.filter((e) => e.settledAt === undefined && e.abandonedAt === undefined).length;
    return `${all.length} admitted: ${completed} completed, failed ${JSON.stringify(Object.fromEntries(failed))}, ${open} unsettled, ${all.filter((e) => e.abandonedAt !== undefined).length} abandoned; ${this.requests().length} provider requests`;
  }
}

export function failure(error: unknown): Admitted['outcome'] {
  const e = error as { code?: unknown; message?: unknown; requestId?: unknown; sessionId?: unknown; stack?: unknown };
  return {
    ok: false,
    code: typeof e.code === 'string' ? e.code : `(no code: ${String(error)})`,
    message: String(e.message),
    ...(typeof e.requestId === 'string' ? { requestId: e.requestId } : {}),
    ...(typeof e.sessionId === 'string' ? { sessionId: e.sessionId } : {}),
    text: `${String(e.message)}\n${String(e.stack)}\n${safeJSON(error)}`,
  };
}

function outcomeText(outcome: NonNullable<Admitted['outcome']>): string {
  return outcome.ok ? safeJSON(outcome.result) : outcome.text;
}

function safeJSON(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

function ms(a: number, b: number): number {
  return Math.round(a - b);
}

function around(text: string, secret: string): string {
  const i = text.indexOf(secret);
  return text.slice(Math.max(0, i - 60), i + secret.length + 20).replaceAll(secret, '<SECRET>');
}

/** Fails the test with every violation, one a line (the scenario's summary first). */
export function assertHolds(ledger: Ledger, scenario: string): void {
  const violations = ledger.violations();
  const head = `${scenario}: ${ledger.summary()}`;
  console.log(`# ${head}`);
  for (const note of ledger.notes) console.log(`# ${note}`);
  if (violations.length === 0) return;
  const shown = violations.slice(0, 40);
  throw new Error(
    `${head}\n${violations.length} violation(s) of the promise:\n  ${shown.join('\n  ')}${violations.length > shown.length ? `\n  … and ${violations.length - shown.length} more` : ''}`,
  );
}
