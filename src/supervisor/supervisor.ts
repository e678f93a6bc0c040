import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../util/clock.ts';
import {
  InvalidRequestError,
  SessionAbortedError,
  SessionPoolError,
  SupervisorClosedError,
  TransportError,
  WorkerCrashedError,
  type ListenerError,
} from '../errors/errors.ts';
import { defaultLogger } from '../util/log.ts';
import { SessionMetrics } from '../engine/metrics.ts';
import type { SupervisorStats } from '../types/stats.ts';
import { formatPrometheus } from '../engine/prometheus.ts';
import { resolveOptions, type ResolvedOptions, type SupervisorOptions } from '../config/options.ts';
import type { ChatTask, ExecuteTask } from '../wire/protocol.ts';
import type { ChatResult } from '../types/chat.ts';
import { SessionPoolOpenAI, type OpenAIClientOptions } from '../openai/client.ts';
import { createPool } from '../pool/pool.ts';
import type { ThreadHeap } from '../types/stats.ts';
import type { Dispatcher, DispatcherOptions } from '../seam/seam.ts';
import { remoteKeyProfiles } from './remote-keys.ts';
import { queuedTask } from './queued-task.ts';
import { chainGates, type TransportDispatcher } from '../seam/seam.ts';
import { providerSecrets, Redactor } from '../util/redact.ts';
import { routeTargets } from '../routing/fallbacks.ts';
import { routedDispatcher } from '../routing/routed-dispatcher.ts';
import { Router } from '../routing/router.ts';
import type { RoutingEvents } from '../types/session.ts';
import type { RouteTarget } from '../routing/targets.ts';
import { assertCloneable, parseOrThrow } from '../errors/checks.ts';
import { closeTimeoutOf } from './close-options.ts';
import { SessionEngine } from '../engine/engine.ts';
import type { EngineEvents } from '../types/session.ts';
import { streamSession } from '../engine/event-stream.ts';
import type { StreamEvent } from '../types/session.ts';
import { ListenerGuard } from '../engine/listener-errors.ts';
import { withCause } from '../engine/parts.ts';
import { redactingDispatcher, scrubBatch } from '../pool/redact-gate.ts';
import { executeRequestSchema, prepareChat } from '../request/request.ts';
import type { ChatRequest, ExecuteRequest } from '../types/request.ts';
import type { SessionSpec } from '../seam/seam.ts';
import type { SessionMetadata } from '../types/chat.ts';
import { FlowChannel } from '../engine/stream-credit.ts';
import type { CloseReport } from '../types/session.ts';
import type { ExecuteResult } from '../types/session.ts';
import type { CloseOptions } from '../types/session.ts';

/**
 * `transition`: every state change of a session; `started`: a worker began running one; `retry`: a
 * provider call will be tried again; `circuit`: a provider's breaker changed state; `fallback`: a
 * session moved on to its next target; `error`: one of your listeners or your `inspect` observer threw
 * (a ListenerError, `code` ERR_LISTENER; without an `error` listener it is logged as a warning).
 */
export type SupervisorEvents = EngineEvents & RoutingEvents & { error: [ListenerError] };

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
  #isReady = false;
  readonly #flow = new FlowChannel();

  constructor(options: SupervisorOptions = {}) {
    super();
    this.#options = resolveOptions(options);
    const transport = options.transport;
    // Behind a queue across hosts the workers hold the keys: sessions here need none.
    if (transport?.remoteKeys === true) remoteKeyProfiles(this.#options.providers);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger === false ? undefined : (options.logger ?? defaultLogger());
    const guard = new ListenerGuard(this as EventEmitter, this.#logger);
    // Every secret the supervisor knows; everything a worker sends back is scrubbed of all of them.
    const redactor = new Redactor([...this.#options.providers.values()].flatMap(providerSecrets));
    this.#ready.promise.catch(() => {});
    this.#router = new Router(this.#options.routing, {
      clock: this.#clock,
      emit: (type, event) => guard.emit(type, event as { sessionId?: string }),
      warn: (message, error) => this.#logger?.warn({ err: error instanceof Error ? error.message : error }, message),
    });
    const dispatcherOptions: DispatcherOptions = {
      threads: this.#options.threads,
      maxTasks: this.#options.maxConcurrent,
      ...(this.#options.resourceLimits ? { resourceLimits: this.#options.resourceLimits } : {}),
      onBatch: (raw) => {
        const batch = scrubBatch(raw, redactor);
        this.#router.observe(batch);
        this.#engine.receive(batch);
      },
      onWorkerReady: (threadId, handlers) => {
        this.#engine.workerReady(threadId);
        if (handlers) return;
        this.#readyWorkers.add(threadId);
        if (this.#readyWorkers.size >= this.#options.threads) {
          [this.#isReady] = [true, this.#ready.resolve()];
          this.#router.poolReady();
        }
      },
      onWorkerGone: (threadId) => {
        // A thread that goes before every thread was up could not start: ready() says so.
        if (!this.#isReady && !this.#readyWorkers.has(threadId))
          this.#ready.reject(new WorkerCrashedError(`A worker thread exited before it was ready (thread ${threadId})`));
        this.#readyWorkers.delete(threadId);
        this.#logger?.debug({ threadId }, 'worker gone');
      },
    };
    const pool: TransportDispatcher =
      transport === undefined
        ? createPool(dispatcherOptions)
        : transport.open({ ...dispatcherOptions, taskFor: queuedTask(this.#router, () => this.#clock.now()), logger: this.#logger });
    if (pool.ready !== undefined) this.#whenTransportReady(pool.ready);
    this.#dispatcher = redactingDispatcher(
      routedDispatcher(pool, this.#router, () => this.#clock.now()),
      redactor,
    );
    this.#engine = new SessionEngine(this.#options.maxConcurrent, this.#options.maxQueue, {
      clock: this.#clock,
      dispatcher: this.#dispatcher,
      metrics: this.#metrics,
      logger: this.#logger,
      inspect: options.inspect,
      abortGraceMs: this.#options.abortGraceMs,
      gate: pool.gate === undefined ? this.#router : chainGates(this.#router, pool.gate),
      emit: (type, event) => guard.emit(type, event),
      listening: (type) => this.listenerCount(type) > 0,
      report: (error, source, sessionId) => guard.report(error, source, sessionId),
    });
    // Workers report each session's start only while someone listens: it costs a message per session.
    const events = this as EventEmitter;
    events.on('newListener', (name: string) => name === 'started' && this.#dispatcher.reportStarts(true));
    events.on('removeListener', (name: string) => name === 'started' && this.listenerCount('started') === 0 && this.#dispatcher.reportStarts(false));
  }

  /** A transport that says when it can take sessions (a queue: connected) is ready then, not when threads start. */
  #whenTransportReady(ready: Promise<void>): void {
    ready.then(
      () => {
        this.#isReady = true;
        this.#ready.resolve();
        this.#router.poolReady();
      },
      // Typed like every other failure of the engine: the transport's own errors may be plain.
      (error: unknown) =>
        this.#ready.reject(error instanceof SessionPoolError ? error : new TransportError(error instanceof Error ? error.message : String(error))),
    );
  }

  /** Runs one chat call as a session and resolves with its result. */
  chat(request: ChatRequest): Promise<ChatResult> {
    // Not an async function: its frame and second promise would stay alive for the whole call.
    try {
      return this.#startChat(request) as Promise<ChatResult>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs one chat call as a streamed session: `delta` events as text arrives, then one `result`.
   * The request is checked and admitted at once: what `chat()` would reject with before its
   * session starts (ERR_INVALID_REQUEST, ERR_QUEUE_FULL, ERR_SUPERVISOR_CLOSED, an aborted signal)
   * `stream()` throws; later failures are thrown by the iterator. The caller's own `onDelta` is
   * called too. The worker reads at most a window ahead of this iterator's consumer.
   */
  stream(request: ChatRequest): AsyncIterableIterator<StreamEvent> {
    return streamSession(
      (onDelta, onEvent, signal, sessionId) => {
        const own = (request as { onDelta?: unknown } | null | undefined)?.onDelta;
        const deliver =
          typeof own !== 'function'
            ? onDelta
            : (text: string) => {
                try {
                  (own as (text: string) => void)(text);
                } finally {
                  onDelta(text);
                }
              };
        return this.#startChat(request, { onDelta: deliver, onEvent, signal, sessionId }) as Promise<ChatResult>;
      },
      (sessionId) => this.#flow.credit(sessionId),
    );
  }

  /**
   * An OpenAI-shaped client on this supervisor: `chat.completions.create(body, options)` with the
   * openai SDK's own types, each call a session. `sessionOf(completion)` gives its session.
   */
  openai(options: OpenAIClientOptions = {}): SessionPoolOpenAI {
    return new SessionPoolOpenAI(this, options);
  }

  /** Runs any module's exported function as a session in the pool. */
  async execute<T = unknown>(request: ExecuteRequest): Promise<ExecuteResult<T>> {
    this.#assertOpen();
    const parsed = this.#checked(() => {
      const valid = parseOrThrow(executeRequestSchema, request, 'execute request');
      assertCloneable(valid.input, 'input');
      if (valid.metadata !== undefined) assertCloneable(valid.metadata, 'metadata');
      return { ...valid, handler: handlerURL(valid.handler) };
    });
    const { sessionId, requestId } = this.#identify(parsed.requestId, parsed.signal, undefined);
    const task: ExecuteTask = {
      kind: 'execute',
      sessionId,
      requestId,
      budgetMs: 0,
      run: 0,
      handler: parsed.handler,
      name: parsed.name ?? 'default',
      input: parsed.input,
    };
    return (await this.#admit({
      kind: 'execute',
      sessionId,
      requestId,
      task,
      timeoutMs: parsed.timeoutMs ?? this.#options.timeoutMs,
      signal: parsed.signal,
      retryOnCrash: parsed.retryOnCrash ?? false,
      secrets: [],
      metadata: parsed.metadata,
      toValue: executeValue,
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
    const stats = this.#metrics.snapshot(this.#engine.queued, {
      threads: this.#dispatcher.threads,
      running,
      utilization: running / this.#options.maxConcurrent,
    });
    stats.routing = this.#router.stats();
    return stats;
  }

  /** The V8 heap in use on each worker thread, in bytes (an empty list for a transport without threads). */
  async workerHeaps(): Promise<ThreadHeap[]> {
    return (await this.#dispatcher.heaps?.()) ?? [];
  }

  /** stats() in the Prometheus text exposition format (serve it with `PROMETHEUS_CONTENT_TYPE`). */
  metrics(): string {
    return formatPrometheus(this.stats());
  }

  /** Stops admitting, lets sessions finish until `timeoutMs`, aborts the rest, stops the pool. */
  close(options?: CloseOptions | null): Promise<CloseReport> {
    if (this.#closing !== undefined) return this.#closing;
    let timeoutMs: number;
    try {
      timeoutMs = closeTimeoutOf(options);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closing = this.#close(timeoutMs);
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
    // Infinity: wait for every session (each still ends by its own deadline).
    const bounded = Number.isFinite(timeoutMs);
    if (bounded) this.#dispatcher.closing?.(timeoutMs);
    const timer = bounded
      ? setTimeout(() => {
          aborted = this.#engine.abortAll('closed');
        }, timeoutMs)
      : undefined;
    await this.#engine.whenIdle();
    clearTimeout(timer);
    // The transport lets go within what is left of the caller's timeout, not on top of it.
    await this.#dispatcher.close(bounded ? Math.max(0, timeoutMs - (performance.now() - started)) : undefined);
    this.#flow.close();
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

  /** Validates and admits a chat (synchronously: errors before admission are thrown); `streamed` for stream(). */
  #startChat(
    request: ChatRequest,
    streamed?: { onDelta: (text: string) => void; onEvent: NonNullable<SessionSpec['onEvent']>; signal: AbortSignal; sessionId: string },
  ): Promise<unknown> {
    this.#assertOpen();
    const prepared = this.#checked(() => prepareChat(request, this.#options, streamed !== undefined));
    const targets = this.#checked(() => routeTargets(request, prepared, this.#options, streamed !== undefined));
    const { provider, call } = prepared;
    const signal = streamed === undefined ? prepared.signal : mergeSignals(prepared.signal, streamed.signal);
    const { sessionId, requestId } = this.#identify(prepared.requestId, signal, streamed?.sessionId);
    // Whole literals, every field present: a session's spec and task each keep one shape, with
    // no properties added later (10,000 sessions in flight hold them all).
    const task: ChatTask = {
      kind: 'chat',
      sessionId,
      requestId,
      budgetMs: 0,
      run: 0,
      abort: undefined,
      provider,
      call,
      retry: prepared.maxRetries === undefined ? this.#options.retry : { ...this.#options.retry, maxRetries: prepared.maxRetries },
      flow: streamed === undefined ? undefined : this.#flow.settings,
    };
    return this.#admit(
      {
        kind: 'chat',
        sessionId,
        requestId,
        provider: provider.name,
        model: call.model,
        task,
        timeoutMs: prepared.timeoutMs ?? this.#options.timeoutMs,
        signal,
        onDelta: streamed?.onDelta ?? prepared.onDelta,
        onEvent: streamed?.onEvent,
        retryOnCrash: true,
        secrets: [...new Set(targets.map((t) => t.provider.apiKey))],
        metadata: prepared.metadata,
        toValue: chatValue,
      },
      targets,
    );
  }

  /** The session's ids, once its request may be admitted: a requestId in use or a signal already aborted is refused. */
  #identify(requestId: string | undefined, signal: AbortSignal | undefined, sessionId: string | undefined): { sessionId: string; requestId: string } {
    if (requestId !== undefined && this.#engine.hasRequestId(requestId)) {
      this.#metrics.rejected.invalid++;
      throw new InvalidRequestError(`Invalid request: \`requestId\`: "${requestId}" is already used by an active session`, [], { requestId });
    }
    const id = requestId ?? randomUUID();
    // The signal's reason is the cause, as when it is aborted later (README, Errors).
    if (signal?.aborted) throw withCause(new SessionAbortedError('The caller aborted the session before it started', { requestId: id }), signal.reason);
    return { sessionId: sessionId ?? randomUUID(), requestId: id };
  }

  #admit(spec: SessionSpec, targets?: RouteTarget[]): Promise<unknown> {
    if (targets !== undefined) this.#router.plan(spec.sessionId, spec.requestId, targets);
    try {
      return this.#engine.submit(spec);
    } catch (error) {
      this.#router.released(spec.sessionId);
      throw error;
    }
  }
}

function mergeSignals(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a === undefined ? b : AbortSignal.any([a, b]);
}

function chatValue(value: unknown, session: SessionMetadata, request: Record<string, unknown> | undefined): ChatResult {
  const result = value as ChatResult;
  result.metadata = withRequest({ ...result.metadata, session }, request);
  return result;
}

function executeValue(output: unknown, session: SessionMetadata, request: Record<string, unknown> | undefined): ExecuteResult {
  return { output, metadata: withRequest({ session }, request) };
}

/** The result's metadata with the caller's own `metadata` under `request` (it is never sent to a provider). */
function withRequest<T extends object>(metadata: T, request: Record<string, unknown> | undefined): T {
  return request === undefined ? metadata : { ...metadata, request };
}

/** A handler given as a path (relative to the working directory) or a URL; it must be an existing file. */
function handlerURL(handler: string | URL): string {
  const url = handler instanceof URL ? handler : handler.startsWith('file:') ? new URL(handler) : pathToFileURL(resolvePath(handler));
  const kind =
    url.protocol !== 'file:'
      ? 'not a file: URL'
      : (statSync(fileURLToPath(url), { throwIfNoEntry: false })?.isFile() ?? false)
        ? undefined
        : 'no such file (or a directory)';
  if (kind !== undefined) {
    const issue = `\`handler\`: expected an existing module file, got ${JSON.stringify(String(handler))} (${kind})`;
    throw new InvalidRequestError(`Invalid execute request: ${issue}`, [issue]);
  }
  return url.href;
}

export function createSupervisor(options?: SupervisorOptions): Supervisor {
  return new Supervisor(options);
}
