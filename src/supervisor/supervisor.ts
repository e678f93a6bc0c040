import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.ts';
import { InvalidRequestError, SessionAbortedError, SupervisorClosedError, type SessionPoolError } from '../errors.ts';
import { defaultLogger } from '../log.ts';
import { SessionMetrics, type SupervisorStats } from '../metrics.ts';
import { formatPrometheus } from '../observe/prometheus.ts';
import { resolveOptions, type ResolvedOptions, type SupervisorOptions } from '../options.ts';
import type { ChatResult } from '../protocol.ts';
import { createPool, type Dispatcher } from '../pool/pool.ts';
import { routeTargets } from '../routing/fallbacks.ts';
import { routedDispatcher } from '../routing/routed-dispatcher.ts';
import { Router, type RoutingEvents } from '../routing/router.ts';
import type { RouteTarget } from '../routing/targets.ts';
import { parseOrThrow } from '../validation.ts';
import { SessionEngine, type EngineEvents } from './engine.ts';
import { streamSession, type StreamEvent } from './event-stream.ts';
import { executeRequestSchema, prepareChat, type ChatRequest, type ExecuteRequest, type SessionRequestFields } from './request.ts';
import type { DistributiveOmit, SessionSpec, SessionSummary } from './session-record.ts';

export interface ExecuteResult<T = unknown> {
  output: T;
  metadata: { session: SessionSummary };
}

export interface CloseOptions {
  /** How long running and queued sessions may go on before they are aborted. @default 10_000 */
  timeoutMs?: number;
}

export interface CloseReport {
  activeAtStart: number;
  queuedAtStart: number;
  finishedDuringClose: number;
  aborted: number;
  durationMs: number;
}

/**
 * `transition`: every state change of a session; `started`: a worker began running one; `retry`: a
 * provider call will be tried again; `circuit`: a provider's breaker changed state; `fallback`: a
 * session moved on to its next target.
 */
export type SupervisorEvents = EngineEvents & RoutingEvents;

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly #options: ResolvedOptions;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #metrics = new SessionMetrics();
  readonly #dispatcher: Dispatcher;
  readonly #engine: SessionEngine;
  readonly #router: Router;
  #closing: Promise<CloseReport> | undefined;
  readonly #readyWorkers = new Set<number>();
  readonly #ready = Promise.withResolvers<void>();

  constructor(options: SupervisorOptions = {}) {
    super();
    this.#options = resolveOptions(options);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger === false ? undefined : (options.logger ?? defaultLogger());
    const emit = (type: string, event: unknown) => (this.emit as (type: string, event: unknown) => boolean)(type, event);
    this.#router = new Router(this.#options.routing, { clock: this.#clock, emit });
    const pool = createPool({
      threads: this.#options.threads,
      maxTasks: this.#options.maxConcurrent,
      ...(this.#options.resourceLimits ? { resourceLimits: this.#options.resourceLimits } : {}),
      onBatch: (batch) => {
        this.#router.observe(batch);
        this.#engine.receive(batch);
      },
      onWorkerReady: (threadId) => {
        this.#readyWorkers.add(threadId);
        this.#engine.workerReady(threadId);
        if (this.#readyWorkers.size >= this.#options.threads) {
          this.#ready.resolve();
          this.#router.poolReady();
        }
      },
      onWorkerGone: (threadId) => {
        this.#readyWorkers.delete(threadId);
        this.#logger?.debug({ threadId }, 'worker gone');
      },
    });
    this.#dispatcher = routedDispatcher(pool, this.#router, () => this.#clock.now());
    this.#engine = new SessionEngine(this.#options.maxConcurrent, this.#options.maxQueue, {
      clock: this.#clock,
      dispatcher: this.#dispatcher,
      metrics: this.#metrics,
      logger: this.#logger,
      inspect: options.inspect,
      abortGraceMs: this.#options.abortGraceMs,
      gate: this.#router,
      emit,
      listening: (type) => this.listenerCount(type) > 0,
    });
    // Workers report each session's start only while someone listens: it costs a message per session.
    const events = this as EventEmitter;
    events.on('newListener', (name: string) => name === 'started' && this.#dispatcher.reportStarts(true));
    events.on('removeListener', (name: string) => name === 'started' && this.listenerCount('started') === 0 && this.#dispatcher.reportStarts(false));
  }

  /** Runs one chat call as a session and resolves with its result. */
  async chat(request: ChatRequest): Promise<ChatResult> {
    return (await this.#submitChat(request, false)) as ChatResult;
  }

  /** Runs one chat call as a streamed session: `delta` events as text arrives, then one `result`. */
  stream(request: ChatRequest): AsyncIterableIterator<StreamEvent> {
    return streamSession((onDelta, signal) => this.#submitChat({ ...request, onDelta, signal: mergeSignals(request.signal, signal) }, true) as Promise<ChatResult>);
  }

  /** Runs any module's exported function as a session in the pool. */
  async execute<T = unknown>(request: ExecuteRequest): Promise<ExecuteResult<T>> {
    this.#assertOpen();
    const parsed = this.#checked(() => parseOrThrow(executeRequestSchema, request, 'execute request'));
    const handler = handlerURL(parsed.handler);
    const name = parsed.name ?? 'default';
    return (await this.#submit(parsed, {
      kind: 'execute',
      task: { kind: 'execute', handler, name, input: parsed.input },
      secrets: [],
      toValue: (output, session) => ({ output, metadata: { session } }),
    })) as ExecuteResult<T>;
  }

  /**
   * Resolves once every worker thread is up (~50 ms each): sessions submitted before then simply
   * wait for their thread, so this is only for hosts that want the start-up cost paid in advance.
   */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  stats(): SupervisorStats {
    const running = this.#engine.running;
    const stats = this.#metrics.snapshot(this.#engine.queued, { threads: this.#dispatcher.threads, running, utilization: running / this.#options.maxConcurrent });
    stats.routing = this.#router.stats();
    return stats;
  }

  /** stats() in the Prometheus text exposition format (serve it with `PROMETHEUS_CONTENT_TYPE`). */
  metrics(): string {
    return formatPrometheus(this.stats());
  }

  /** Stops admitting, lets sessions finish until `timeoutMs`, aborts the rest, stops the pool. */
  close(options: CloseOptions = {}): Promise<CloseReport> {
    this.#closing ??= this.#close(options.timeoutMs ?? 10_000);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(timeoutMs: number): Promise<CloseReport> {
    const started = performance.now();
    const activeAtStart = this.#engine.active;
    const queuedAtStart = this.#engine.queued;
    let aborted = 0;
    const timer = setTimeout(() => {
      aborted = this.#engine.abortAll('closed');
    }, timeoutMs);
    await this.#engine.whenIdle();
    clearTimeout(timer);
    await this.#dispatcher.close();
    const report = { activeAtStart, queuedAtStart, finishedDuringClose: activeAtStart - aborted, aborted, durationMs: Math.round(performance.now() - started) };
    this.#logger?.debug(report, 'supervisor closed');
    return report;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      this.#metrics.rejected.closed++;
      throw new SupervisorClosedError();
    }
  }

  #checked<T>(validate: () => T): T {
    try {
      return validate();
    } catch (error) {
      if ((error as SessionPoolError).code === 'ERR_INVALID_REQUEST') this.#metrics.rejected.invalid++;
      throw error;
    }
  }

  async #submitChat(request: ChatRequest, stream: boolean): Promise<unknown> {
    this.#assertOpen();
    const prepared = this.#checked(() => prepareChat(request, this.#options, stream));
    const targets = this.#checked(() => routeTargets(request, prepared, this.#options, stream));
    const { provider, call } = prepared;
    return this.#submit(prepared, {
      kind: 'chat',
      provider: provider.name,
      model: call.model,
      task: { kind: 'chat', provider, call, retry: this.#options.retry },
      secrets: [...new Set(targets.map((t) => t.provider.apiKey))],
      ...(prepared.onDelta ? { onDelta: prepared.onDelta } : {}),
      toValue: (value, session) => {
        const result = value as ChatResult;
        result.metadata = { ...result.metadata, session };
        return result;
      },
    }, targets);
  }

  #submit(fields: SessionRequestFields, spec: Omit<SessionSpec, 'sessionId' | 'requestId' | 'timeoutMs' | 'task'> & { task: DistributiveOmit<SessionSpec['task'], 'sessionId' | 'requestId'> }, targets?: RouteTarget[]): Promise<unknown> {
    const requestId = fields.requestId ?? randomUUID();
    if (fields.requestId !== undefined && this.#engine.hasRequestId(requestId)) {
      this.#metrics.rejected.invalid++;
      throw new InvalidRequestError(`Invalid request: \`requestId\`: "${requestId}" is already used by an active session`, [], { requestId });
    }
    if (fields.signal?.aborted) throw new SessionAbortedError('The caller aborted the session before it started', { requestId });
    const sessionId = randomUUID();
    const task = { ...spec.task, sessionId, requestId } as SessionSpec['task'];
    if (targets !== undefined) this.#router.plan(sessionId, requestId, targets);
    try {
      return this.#engine.submit({
        ...spec,
        task,
        sessionId,
        requestId,
        timeoutMs: fields.timeoutMs ?? this.#options.timeoutMs,
        ...(fields.signal ? { signal: fields.signal } : {}),
      });
    } catch (error) {
      this.#router.released(sessionId);
      throw error;
    }
  }
}

function mergeSignals(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a === undefined ? b : AbortSignal.any([a, b]);
}

/** A handler given as a path (relative to the working directory) or a URL; it must exist. */
function handlerURL(handler: string | URL): string {
  const url = handler instanceof URL ? handler : handler.startsWith('file:') ? new URL(handler) : pathToFileURL(resolvePath(handler));
  if (url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) {
    const issue = `\`handler\`: expected an existing module file, got ${JSON.stringify(String(handler))}`;
    throw new InvalidRequestError(`Invalid execute request: ${issue}`, [issue]);
  }
  return url.href;
}

export function createSupervisor(options?: SupervisorOptions): Supervisor {
  return new Supervisor(options);
}
