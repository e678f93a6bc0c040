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
import type { SupervisorStats, ThreadHeap } from '../types/stats.ts';
import { formatPrometheus } from '../engine/prometheus.ts';
import { resolveOptions, type ResolvedOptions, type SupervisorOptions } from '../config/options.ts';
import type { ChatTask, ExecuteTask } from '../wire/protocol.ts';
import type { ChatResult, SessionMetadata } from '../types/chat.ts';
import { SessionPoolOpenAI } from '../openai/client.ts';
import type { OpenAIClientOptions } from '../types/openai.ts';
import { createPool } from '../pool/pool.ts';
import type { Dispatcher, DispatcherOptions, SessionSpec } from '../seam/seam.ts';
import { remoteKeyProfiles } from './remote-keys.ts';
import { queuedTask } from './queued-task.ts';
import { chainGates, type TransportDispatcher } from '../seam/seam.ts';
import { providerSecrets, Redactor } from '../util/redact.ts';
import { routeTargets } from '../routing/fallbacks.ts';
import { routedDispatcher } from '../routing/routed-dispatcher.ts';
import { Router } from '../routing/router.ts';
import type { RoutingEvents, EngineEvents, StreamEvent, CloseReport, ExecuteResult, CloseOptions } from '../types/session.ts';
import type { RouteTarget } from '../routing/targets.ts';
import { assertCloneable, parseOrThrow } from '../errors/checks.ts';
import { closeTimeoutOf } from './close-options.ts';
import { SessionEngine } from '../engine/engine.ts';
import { streamSession } from '../engine/event-stream.ts';
import { ListenerGuard } from '../engine/listener-errors.ts';
import { withCause } from '../engine/parts.ts';
import { redactingDispatcher, scrubBatch } from '../pool/redact-gate.ts';
import { executeRequestSchema, prepareChat } from '../request/request.ts';
import type { ChatRequest, ExecuteRequest } from '../types/request.ts';
import { FlowChannel } from '../engine/stream-credit.ts';
import { SessionTelemetry } from '../telemetry/session-telemetry.ts';
import { Budgets } from '../telemetry/budgets.ts';
import { priceMap } from '../telemetry/cost.ts';
import { ChatAccounting } from './chat-accounting.ts';

/**
 * The events a {@link Supervisor} emits, by name, with their listener's arguments: `transition`: every
 * state change of a session; `started`: a worker began running one (reported only while a `started`
 * listener is attached); `retry`: a provider call will be tried again; `circuit`: a provider's breaker
 * changed state; `fallback`: a session moved on to its next target; `error`: one of your listeners or
 * your `inspect` observer threw. A listener's failure never reaches the session.
 */
export type SupervisorEvents = EngineEvents &
  RoutingEvents & {
    /**
     * One of your listeners (`transition`, `started`, `retry`) or your `inspect` observer threw, or an
     * async listener rejected: a ListenerError (`code` ERR_LISTENER) naming the `source` and the
     * `sessionId`, with what was thrown as its `cause`. Without an `error` listener it is logged as a
     * warning (`process.emitWarning` with `logger: false`).
     */
    error: [ListenerError];
  };

/**
 * Runs LLM provider calls, and functions of your own, as supervised sessions on a pool of worker
 * threads. Each session is checked, admitted (or queued: `maxConcurrent`, `maxQueue`), run on a
 * worker thread, ended by its deadline (completed or failed) and released, exactly once; its state
 * changes are `transition` events ({@link SupervisorEvents}). The worker threads start with the
 * supervisor; {@link Supervisor.close | close()} stops them and leaves no handle open.
 *
 * `new Supervisor(options)` is the same as {@link createSupervisor}; it throws ERR_INVALID_REQUEST
 * ({@link InvalidRequestError}, naming the option) when an option is invalid, before anything starts.
 *
 * @example
 * ```ts
 * import { Supervisor, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = new Supervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
 * supervisor.on('transition', (e) => console.log(e.sessionId.slice(0, 8), e.from, '→', e.to));
 *
 * const result = await supervisor.chat({ provider: 'kimi', prompt: 'Write a haiku about threads.' });
 * console.log(result.content, result.usage.totalTokens);
 * await supervisor.close();
 * await mock.close();
 * ```
 */
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
  readonly #accounting: ChatAccounting;

  /**
   * Checks the options and starts the worker threads (or opens the transport).
   * @throws ERR_INVALID_REQUEST ({@link InvalidRequestError}) when an option is invalid: it names the option.
   */
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
    const telemetry = SessionTelemetry.create(this.#options.telemetry);
    const budgets = this.#options.budgets === undefined ? undefined : new Budgets(this.#options.budgets);
    this.#accounting = new ChatAccounting(this.#metrics, priceMap(this.#options.prices), budgets, telemetry);
    this.#router = new Router(this.#options.routing, {
      clock: this.#clock,
      emit: (type, event) => {
        this.#accounting.routing(type, event);
        guard.emit(type, event as { sessionId?: string });
      },
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
        // One thread can run sessions: rate budget is handed out from now on (ready() waits for every thread, sessions do not).
        this.#router.poolReady();
        this.#readyWorkers.add(threadId);
        if (this.#readyWorkers.size >= this.#options.threads) [this.#isReady] = [true, this.#ready.resolve()];
      },
      onWorkerGone: (threadId) => {
        // A thread that goes before every thread was up could not start: ready() says so.
        // Closed first: the threads were stopped, not lost, and ready() says that.
        if (!this.#isReady && !this.#readyWorkers.has(threadId))
          this.#ready.reject(
            this.#closing !== undefined
              ? new SupervisorClosedError('The supervisor was closed before its worker threads were ready')
              : new WorkerCrashedError(`A worker thread exited before it was ready (thread ${threadId})`),
          );
        this.#readyWorkers.delete(threadId);
        this.#logger?.debug({ threadId }, 'worker gone');
      },
    };
    const pool: TransportDispatcher =
      transport === undefined
        ? createPool(dispatcherOptions)
        : transport.open({ ...dispatcherOptions, taskFor: queuedTask(this.#router, () => this.#clock.now()), logger: this.#logger });
    if (pool.ready !== undefined) this.#whenTransportReady(pool.ready);
    // Under routing's fallbacks, so that every target's calls become spans. The call records are
    // scrubbed there (they become span attributes), not by the redaction gate: the engine never reads them.
    this.#dispatcher = redactingDispatcher(
      routedDispatcher(
        telemetry === undefined ? pool : telemetry.dispatcher(pool, (calls) => redactor.deep(calls)),
        this.#router,
        () => this.#clock.now(),
        (fn, ms) => this.#clock.setTimer(fn, ms),
      ),
      redactor,
    );
    // The waits marked on traced sessions: for a slot, then for routing's budget (not a queue's pick-up).
    const routerGate = telemetry === undefined ? this.#router : telemetry.gate(this.#router);
    const gate = pool.gate === undefined ? routerGate : chainGates(routerGate, pool.gate);
    this.#engine = new SessionEngine(this.#options.maxConcurrent, this.#options.maxQueue, {
      clock: this.#clock,
      dispatcher: this.#dispatcher,
      metrics: this.#metrics,
      logger: this.#logger,
      inspect: options.inspect,
      abortGraceMs: this.#options.abortGraceMs,
      gate,
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

  /**
   * Runs one chat call as a session and resolves with its result: the answer, usage summed over
   * continuation rounds, and `metadata.session` (ids, duration in seconds, attempts). The request is
   * checked whole before anything starts; provider calls that can succeed are retried (`retry`,
   * `maxRetries`), and a chat whose worker thread died is sent again once when nothing was streamed.
   *
   * @param request - What to ask and of whom: `provider` and `messages` (or `prompt`), plus any
   *   option of {@link ChatRequest} (`timeoutMs`, `signal`, `onDelta`, `metadata`, …).
   * @returns The session's {@link ChatResult}. Never throws: every failure is a rejection, with a
   *   {@link SessionPoolError} whose `code` says what happened: ERR_INVALID_REQUEST (nothing
   *   started), ERR_QUEUE_FULL, ERR_SUPERVISOR_CLOSED, ERR_SESSION_TIMEOUT, ERR_SESSION_ABORTED,
   *   ERR_PROVIDER (or its subclasses by status, such as {@link RateLimitError}),
   *   ERR_PROVIDER_RESPONSE, ERR_RESPONSE_TOO_LARGE, ERR_WORKER_CRASHED, ERR_CIRCUIT_OPEN,
   *   ERR_TRANSPORT, ERR_BUDGET_EXCEEDED (a `budgets` limit is spent: nothing started). With a
   *   tracer provider registered, the session is a span under the span active here
   *   (docs/observability.md, OpenTelemetry); `metadata.cost` says what it cost.
   *
   * @example
   * ```ts
   * import { createSupervisor, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
   *
   * const result = await supervisor.chat({
   *   provider: 'kimi',
   *   messages: [{ role: 'user', content: 'Write a haiku about threads.' }],
   *   timeoutMs: 30_000,
   *   metadata: { tenant: 't1' },
   * });
   * console.log(result.content, result.finishReason, result.metadata.session.durationSeconds);
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  chat(request: ChatRequest): Promise<ChatResult> {
    // Not an async function: its frame and second promise would stay alive for the whole call.
    try {
      return this.#startChat(request) as Promise<ChatResult>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs one chat call as a streamed session: `delta` events as text arrives (and `reasoning`,
   * `tool-call`, `usage`, `response` pieces), then one `result` event with the {@link ChatResult}.
   * The request is checked and admitted at once: what `chat()` would reject with before its
   * session starts (ERR_INVALID_REQUEST, ERR_QUEUE_FULL, ERR_SUPERVISOR_CLOSED, ERR_SESSION_ABORTED
   * for a signal aborted already) `stream()` throws; later failures are thrown by the iterator.
   * Leaving the loop early (`break`, `return`, a throw) aborts the session. The caller's own
   * `onDelta` is called too. The worker reads at most a window ahead of this iterator's consumer
   * (back-pressure down to the socket); a stream is retried only while no text was delivered.
   *
   * @param request - The same request as {@link Supervisor.chat | chat()} takes.
   * @returns An async iterator of {@link StreamEvent}s ending with `{ type: 'result', result }`.
   * @throws ERR_INVALID_REQUEST, ERR_QUEUE_FULL, ERR_SUPERVISOR_CLOSED, ERR_SESSION_ABORTED, ERR_BUDGET_EXCEEDED, at once.
   *
   * @example
   * ```ts
   * import { createSupervisor, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { glm: { baseURL: mock.baseURL('glm'), apiKey: 'sk-test' } } });
   *
   * for await (const event of supervisor.stream({ provider: 'glm', prompt: 'Tell me a story' })) {
   *   if (event.type === 'delta') process.stdout.write(event.text);
   *   else if (event.type === 'result') console.log('\n', event.result.finishReason, event.result.usage);
   * }
   * await supervisor.close();
   * await mock.close();
   * ```
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
   * openai SDK's own types, each call a session. {@link sessionOf | sessionOf(completion)} gives its
   * session, {@link resultOf | resultOf(completion)} the whole {@link ChatResult}.
   *
   * @param options - Which provider the client's calls go to (`provider`, default `'openai'`).
   *
   * @example
   * ```ts
   * import { createSupervisor, sessionOf, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
   * const openai = supervisor.openai({ provider: 'kimi' });
   *
   * const completion = await openai.chat.completions.create({
   *   model: 'moonshot-v1-8k',
   *   messages: [{ role: 'user', content: 'Hello' }],
   * });
   * console.log(completion.choices[0]?.message.content, sessionOf(completion)?.sessionId);
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  openai(options: OpenAIClientOptions = {}): SessionPoolOpenAI {
    return new SessionPoolOpenAI(this, options);
  }

  /**
   * Runs a module's exported function as a session, on a pool of handler threads of its own (started
   * by the first `execute()`, one handler per thread at a time): the function `name` of `handler` is
   * called as `fn(input, { sessionId, requestId, signal })`. `signal` aborts at the session's
   * deadline, on the caller's abort and on `close()`. A handler whose thread dies is run again only
   * with `retryOnCrash: true`.
   *
   * @typeParam T - The type of the handler's output (not checked).
   * @param request - `handler` (a path, relative to the working directory, or a `file:` URL of an
   *   existing module), `name` (default `'default'`), `input` (anything `structuredClone` accepts),
   *   and the session's options ({@link ExecuteRequest}).
   * @returns `{ output, metadata: { session } }` (and `metadata.request`, your `metadata`). Rejects
   *   with ERR_INVALID_REQUEST (an invalid request, a handler that is not an existing file),
   *   ERR_SUPERVISOR_CLOSED, ERR_QUEUE_FULL, ERR_SESSION_TIMEOUT, ERR_SESSION_ABORTED, ERR_HANDLER
   *   (a {@link HandlerError}: what the handler threw, its `name`, `message` and `code` kept),
   *   ERR_HANDLER_RESULT (an output that cannot cross threads) or ERR_WORKER_CRASHED.
   *
   * @example
   * ```ts
   * import { writeFileSync } from 'node:fs';
   * import { tmpdir } from 'node:os';
   * import { join } from 'node:path';
   * import { createSupervisor } from 'sessionpool';
   *
   * // A handler: any ES module that exports a function of (input, { sessionId, requestId, signal }).
   * const handler = join(tmpdir(), 'word-count.mjs');
   * writeFileSync(handler, "export function wordCount({ text }) { return { words: text.split(' ').length }; }\n");
   *
   * const supervisor = createSupervisor({ threads: 1 });
   * const { output, metadata } = await supervisor.execute<{ words: number }>({
   *   handler,
   *   name: 'wordCount',
   *   input: { text: 'one two three' },
   *   timeoutMs: 5_000,
   * });
   * console.log(output.words, metadata.session.durationSeconds); // 3 …
   * await supervisor.close();
   * ```
   */
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
   * Resolves once every worker thread is up, its modules loaded (~0.2 s for 2 threads on 2 cores
   * from the built package): a session submitted before then waits for the first thread up, not for
   * all of them, so this is only for hosts that want the start-up cost paid in advance.
   * With a transport that connects (`bullmq()`), resolves once it is connected instead.
   *
   * @returns A promise that rejects with ERR_WORKER_CRASHED ({@link WorkerCrashedError}) when a
   *   thread exits before it was up (`resourceLimits` too small, say), or with ERR_TRANSPORT
   *   ({@link TransportError}) when the transport cannot connect (Redis unreachable, password refused).
   *
   * @example
   * ```ts
   * import { createSupervisor } from 'sessionpool';
   *
   * const supervisor = createSupervisor({ threads: 2 });
   * await supervisor.ready(); // both threads are up and loaded: the first session waits for neither
   * console.log(supervisor.stats().pool.threads); // 2
   * await supervisor.close();
   * ```
   */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /**
   * A snapshot of the supervisor's counters, in O(1): sessions in each state, outcomes since the
   * start, requests refused before admission, latency percentiles in milliseconds (admission to
   * outcome, all and by provider), the pool's slots in use, and routing (keys, circuits, fallbacks).
   *
   * @returns A fresh object each call ({@link SupervisorStats}); counters are cumulative.
   *
   * @example
   * ```ts
   * import { createSupervisor, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
   * await Promise.all([1, 2, 3].map((i) => supervisor.chat({ provider: 'kimi', prompt: `question ${i}` })));
   *
   * const stats = supervisor.stats();
   * console.log(stats.completed, stats.states.released, stats.latencyMs.p95, stats.pool.utilization); // 3 3 … 0
   * await supervisor.close();
   * await mock.close();
   * ```
   */
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

  /**
   * The V8 heap in use on each worker thread, in bytes (an empty list for a transport without threads).
   *
   * @example
   * ```ts
   * import { createSupervisor } from 'sessionpool';
   *
   * const supervisor = createSupervisor({ threads: 2 });
   * await supervisor.ready();
   * for (const { threadId, heapUsed } of await supervisor.workerHeaps()) console.log(threadId, (heapUsed / 2 ** 20).toFixed(1), 'MiB');
   * await supervisor.close();
   * ```
   */
  async workerHeaps(): Promise<ThreadHeap[]> {
    return (await this.#dispatcher.heaps?.()) ?? [];
  }

  /**
   * {@link Supervisor.stats | stats()} in the Prometheus text exposition format, metric names
   * prefixed `sessionpool_` (see {@link formatPrometheus}); serve it with `PROMETHEUS_CONTENT_TYPE`.
   *
   * @example
   * ```ts
   * import { createServer } from 'node:http';
   * import { createSupervisor, PROMETHEUS_CONTENT_TYPE } from 'sessionpool';
   *
   * const supervisor = createSupervisor({ threads: 1 });
   * const server = createServer((req, res) => {
   *   if (req.url === '/metrics') res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(supervisor.metrics());
   *   else res.writeHead(404).end();
   * }).listen(0);
   * server.once('listening', async () => {
   *   const { port } = server.address() as { port: number };
   *   console.log((await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).split('\n')[0]); // # HELP sessionpool_sessions_total …
   *   server.close();
   *   await supervisor.close();
   * });
   * ```
   */
  metrics(): string {
    return formatPrometheus(this.stats());
  }

  /**
   * Stops admitting (new calls get ERR_SUPERVISOR_CLOSED), lets running and queued sessions finish
   * until `timeoutMs`, aborts the rest (ERR_SESSION_ABORTED), stops the pools (or the transport) and
   * resolves with a report. A process that creates, uses and closes a supervisor exits by itself.
   * Calling it again returns the same promise.
   *
   * @param options - `timeoutMs`: 0 to 2_147_483_647 ms, or `Infinity` to wait for every session
   *   (each still ends by its own deadline); `close()` and `close(null)` wait 10_000 ms.
   * @returns `{ activeAtStart, queuedAtStart, finishedDuringClose, aborted, durationMs }`
   *   ({@link CloseReport}). Rejects with ERR_INVALID_REQUEST for any other `timeoutMs` (`NaN`,
   *   `-5`, `'soon'`), closing nothing.
   *
   * @example
   * ```ts
   * import { createSupervisor, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
   * const pending = supervisor.chat({ provider: 'kimi', prompt: 'never answered [[mock hang]]' }).catch((e: { code: string }) => e.code);
   *
   * const report = await supervisor.close({ timeoutMs: 500 });
   * console.log(report.aborted, await pending); // 1 'ERR_SESSION_ABORTED'
   * await mock.close();
   * ```
   */
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

  /**
   * `await using supervisor = createSupervisor(…)` closes the supervisor when the block ends:
   * {@link Supervisor.close | close()} with its default timeout (10 s).
   *
   * @example
   * ```ts
   * import { createSupervisor } from 'sessionpool';
   *
   * {
   *   await using supervisor = createSupervisor({ threads: 1 });
   *   await supervisor.ready();
   *   console.log(supervisor.stats().pool.threads); // 1
   * } // supervisor.close() has returned here
   * ```
   */
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
    const routes = this.#checked(() => routeTargets(request, prepared, this.#options, streamed !== undefined));
    const { provider, call } = prepared;
    const signal = streamed === undefined ? prepared.signal : mergeSignals(prepared.signal, streamed.signal);
    this.#accounting.checkBudgets(provider.name, prepared.metadata, prepared.requestId);
    // Fallback targets whose provider's budget is spent are left out (else a fallback would spend it further).
    const targets = this.#accounting.withinBudgets(routes);
    const { sessionId, requestId } = this.#identify(prepared.requestId, signal, streamed?.sessionId);
    const trace = this.#accounting.begin(sessionId, requestId, provider, call);
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
      trace: trace?.traceparent,
    };
    const admitted = this.#admit(
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
        toValue: this.#accounting.toValue,
      },
      targets,
      trace,
    );
    return this.#accounting.watch(sessionId, admitted, trace, provider, call);
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

  #admit(spec: SessionSpec, targets?: RouteTarget[], trace?: unknown): Promise<unknown> {
    if (targets !== undefined) this.#router.plan(spec.sessionId, spec.requestId, targets);
    try {
      return this.#engine.submit(spec);
    } catch (error) {
      this.#router.released(spec.sessionId);
      if (trace !== undefined) this.#accounting.refused(spec.sessionId, error);
      throw error;
    }
  }
}

function mergeSignals(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a === undefined ? b : AbortSignal.any([a, b]);
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

/**
 * Creates a {@link Supervisor}: checks every option, then starts its worker threads (or opens its
 * transport). Sessions may be submitted at once; they wait for their thread.
 *
 * @param options - Providers, pool size, limits, deadlines, retries, routing, transport
 *   ({@link SupervisorOptions}); every one has a default.
 * @throws ERR_INVALID_REQUEST ({@link InvalidRequestError}) when an option is invalid: the message
 *   names it, what was expected and what was received; nothing starts.
 *
 * @example
 * ```ts
 * import { createSupervisor, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({
 *   maxConcurrent: 64, // sessions in flight at once; more wait in the queue
 *   timeoutMs: 60_000, // each session's deadline, queue wait included
 *   providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } },
 * });
 * const result = await supervisor.chat({ provider: 'kimi', prompt: 'Hello' });
 * console.log(result.content);
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export function createSupervisor(options?: SupervisorOptions): Supervisor {
  return new Supervisor(options);
}
