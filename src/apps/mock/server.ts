/**
 * The embedded mock provider: an OpenAI-compatible HTTP server speaking three dialects by path:
 * `POST /kimi/v1/chat/completions`, `POST /glm/api/paas/v4/chat/completions`, `POST /v1/chat/completions`.
 * What each response does is chosen per request (see MockBehaviour); every request is
 * recorded for tests. Start it with startMockProvider().
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { InvalidRequestError } from '../../api/public.ts';
import { mockOptionsIssues } from './behaviour-check.ts';
import { mergeBehaviours, requestBehaviour, shouldFail } from './behaviour.ts';
import { Exchange } from './exchange.ts';
import { findError, genericError } from './fixtures.ts';
import { jsonPlan, planResponse } from './plan.ts';
import type { MockBehaviour, MockDialect, MockProviderEvents, MockProviderOptions, MockRequestBody, MockRequestRecord } from './types.ts';

export { parseMockDirective, mergeBehaviours } from './behaviour.ts';
export type * from './types.ts';

/** The base path of each dialect's API on the mock: `mock.baseURL(dialect)` is `mock.url` followed by it. */
export const BASE_PATHS: Record<MockDialect, string> = { kimi: '/kimi/v1', glm: '/glm/api/paas/v4', openai: '/v1' };

function dialectOf(path: string): MockDialect {
  return path.startsWith('/kimi/') ? 'kimi' : path.startsWith('/glm/') ? 'glm' : 'openai';
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function parseBody(raw: string): MockRequestBody | null {
  try {
    const body: unknown = JSON.parse(raw);
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as MockRequestBody) : null;
  } catch {
    return null;
  }
}

/**
 * A running mock provider (startMockProvider() makes one): an OpenAI-compatible HTTP server in the
 * Kimi, GLM and OpenAI dialects that records every request. An EventEmitter of `request`, `closed`
 * and `finished` (MockProviderEvents).
 * @example
 * ```ts
 * import { createSupervisor } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const mock = await startMockProvider();
 * mock.on('request', (record) => console.log(record.dialect, record.path)); // kimi /kimi/v1/chat/completions
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * await supervisor.chat({ provider: 'kimi', prompt: 'Hello', maxOutputTokens: 77 });
 * console.log(mock.totalRequests, mock.requests[0]?.body?.['max_tokens']); // 1 77
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class MockProvider extends EventEmitter<MockProviderEvents> {
  /** The server's origin, `http://127.0.0.1:<port>` (no path: see baseURL()). */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The newest `maxRecords` requests, in arrival order. */
  readonly requests: MockRequestRecord[] = [];
  readonly #server: Server;
  readonly #options: MockProviderOptions;
  readonly #maxRecords: number;
  readonly #exchanges = new Set<Exchange>();
  readonly #sockets = new Set<Socket>();
  readonly #failCounts = new Map<string, number>();
  readonly #cancelWaits = new Set<() => void>();
  #seq = 0;
  #callIds = 0;
  #totalRequests = 0;
  #totalClosed = 0;
  #inFlight = 0;
  #maxInFlight = 0;
  #closing: Promise<void> | undefined;

  /** Use startMockProvider(). */
  constructor(server: Server, options: MockProviderOptions, host: string, port: number) {
    super();
    this.setMaxListeners(0);
    this.#server = server;
    this.#options = options;
    this.#maxRecords = Math.max(1, options.maxRecords ?? 10_000);
    this.port = port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.#handle(req, res, Buffer.concat(chunks).toString('utf8')));
      req.on('error', () => {}); // aborted before the body arrived: not recorded
    });
  }

  /** Total requests received (records beyond maxRecords are dropped, not this count). */
  get totalRequests(): number {
    return this.#totalRequests;
  }

  /** Requests received and not yet finished or closed. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The most requests in flight at once since the start (or since reset()). */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /**
   * The base URL of a dialect's API, to use as a provider's `baseURL` (`http://127.0.0.1:<port>/kimi/v1`,
   * `/glm/api/paas/v4`, `/v1`).
   * @example
   * ```ts
   * import { startMockProvider } from 'sessionpool/mock';
   *
   * const mock = await startMockProvider();
   * const response = await fetch(`${mock.baseURL('openai')}/chat/completions`, {
   *   method: 'POST',
   *   headers: { authorization: 'Bearer sk-mock', 'content-type': 'application/json' },
   *   body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi [[mock content="Hello there."]]' }] }),
   * });
   * const completion = (await response.json()) as { choices: Array<{ message: { content: string } }> };
   * console.log(mock.baseURL('kimi'), completion.choices[0]?.message.content); // http://127.0.0.1:<port>/kimi/v1 Hello there.
   * await mock.close();
   * ```
   */
  baseURL(dialect: MockDialect): string {
    return this.url + BASE_PATHS[dialect];
  }

  /**
   * Clears records, counters, failTimes state and maxInFlight (requests still open keep counting).
   * @example
   * ```ts
   * import { createSupervisor } from 'sessionpool';
   * import { startMockProvider } from 'sessionpool/mock';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { glm: { baseURL: mock.baseURL('glm'), apiKey: 'sk-mock' } } });
   * await supervisor.chat({ provider: 'glm', prompt: 'warm-up' });
   * mock.reset(); // the next test starts from zero
   * await supervisor.chat({ provider: 'glm', prompt: 'measured' });
   * console.log(mock.totalRequests, mock.requests.length); // 1 1
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  reset(): void {
    this.requests.length = 0;
    this.#totalRequests = 0;
    this.#totalClosed = 0;
    this.#failCounts.clear();
    this.#callIds = 0;
    this.#maxInFlight = this.#inFlight;
  }

  /**
   * Resolves (with the kept records) once totalRequests >= n; rejects if the mock closes first.
   * @example
   * ```ts
   * import { createSupervisor } from 'sessionpool';
   * import { startMockProvider } from 'sessionpool/mock';
   *
   * const mock = await startMockProvider({ latencyMs: 100 });
   * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
   * const answers = Promise.all([supervisor.chat({ provider: 'kimi', prompt: 'a' }), supervisor.chat({ provider: 'kimi', prompt: 'b' })]);
   * const records = await mock.waitForRequests(2); // both arrived, neither answered yet
   * console.log(records.length, mock.inFlight); // 2 2
   * await answers;
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  waitForRequests(n: number): Promise<MockRequestRecord[]> {
    return this.#waitFor(
      'request',
      () => this.#totalRequests >= n,
      () => [...this.requests],
    );
  }

  /**
   * Resolves (with the kept records that closed early) once n requests were closed early by clients;
   * rejects if the mock closes first. How a test sees that a timeout or an abort really cut the call.
   * @example
   * ```ts
   * import { createSupervisor } from 'sessionpool';
   * import { startMockProvider } from 'sessionpool/mock';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
   * const controller = new AbortController();
   * const call = supervisor.chat({ provider: 'kimi', prompt: 'Never answered [[mock hang]]', signal: controller.signal }).catch((error: Error & { code: string }) => error.code);
   * await mock.waitForRequests(1);
   * controller.abort();
   * const [record] = await mock.waitForClosed(1); // the abort reached the HTTP call
   * console.log(record?.closedEarly, await call); // true ERR_SESSION_ABORTED
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  waitForClosed(n: number): Promise<MockRequestRecord[]> {
    return this.#waitFor(
      'closed',
      () => this.#totalClosed >= n,
      () => this.requests.filter((r) => r.closedEarly),
    );
  }

  /**
   * Resolves once inFlight >= n; rejects if the mock closes first.
   * @example
   * ```ts
   * import { createSupervisor } from 'sessionpool';
   * import { startMockProvider } from 'sessionpool/mock';
   *
   * const mock = await startMockProvider({ defaults: { hang: true } });
   * const supervisor = createSupervisor({ maxConcurrent: 3, providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
   * const calls = Array.from({ length: 5 }, (_, i) => supervisor.chat({ provider: 'kimi', prompt: `q${i}` }).catch(() => 'aborted'));
   * await mock.waitForInFlight(3); // maxConcurrent calls reached the provider at once
   * console.log(mock.inFlight, supervisor.stats().queued); // 3 2
   * await supervisor.close({ timeoutMs: 0 }); // aborts them all
   * console.log(await Promise.all(calls)); // [ 'aborted', 'aborted', 'aborted', 'aborted', 'aborted' ]
   * await mock.close();
   * ```
   */
  waitForInFlight(n: number): Promise<void> {
    return this.#waitFor(
      'request',
      () => this.#inFlight >= n,
      () => undefined,
    );
  }

  /**
   * Destroys every connection (hanging ones included), clears every timer and closes the server;
   * pending waitFor…() calls reject. Calling it again returns the same promise.
   * @example
   * ```ts
   * import { startMockProvider } from 'sessionpool/mock';
   *
   * const mock = await startMockProvider();
   * try {
   *   console.log(mock.url); // http://127.0.0.1:<port>
   * } finally {
   *   await mock.close(); // the process can exit: nothing is left open
   * }
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const exchange of this.#exchanges) exchange.end();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
      for (const socket of this.#sockets) socket.destroy();
    }).then(() => {
      for (const cancel of [...this.#cancelWaits]) cancel();
    });
    return this.#closing;
  }

  #waitFor<T>(event: 'request' | 'closed', done: () => boolean, value: () => T): Promise<T> {
    if (done()) return Promise.resolve(value());
    if (this.#closing) return Promise.reject(new Error('mock provider is closed'));
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        cleanup();
        resolve(value());
      };
      const cancel = (): void => {
        cleanup();
        reject(new Error('mock provider closed before the condition was met'));
      };
      const cleanup = (): void => {
        this.off(event, check);
        this.#cancelWaits.delete(cancel);
      };
      this.on(event, check);
      this.#cancelWaits.add(cancel);
    });
  }

  #record(req: IncomingMessage, body: MockRequestBody | null): MockRequestRecord {
    const [path = '/', search = ''] = (req.url ?? '/').split('?');
    const record: MockRequestRecord = {
      seq: ++this.#seq,
      dialect: dialectOf(path),
      method: req.method ?? 'GET',
      path,
      query: Object.fromEntries(new URLSearchParams(search)),
      headers: headerRecord(req),
      body,
      receivedAt: performance.now(),
      closedEarly: false,
    };
    this.requests.push(record);
    if (this.requests.length > this.#maxRecords) this.requests.shift();
    this.#totalRequests++;
    this.#maxInFlight = Math.max(this.#maxInFlight, ++this.#inFlight);
    return record;
  }

  #onClose(exchange: Exchange): void {
    exchange.end();
    this.#exchanges.delete(exchange);
    this.#inFlight--;
    const { record, res } = exchange;
    record.finishedAt = performance.now();
    if (res.writableFinished || exchange.resetByServer) {
      this.emit('finished', record);
    } else {
      record.closedEarly = true;
      this.#totalClosed++;
      this.emit('closed', record);
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const body = parseBody(raw);
    const record = this.#record(req, body);
    const exchange = new Exchange(record, res);
    this.#exchanges.add(exchange);
    res.once('close', () => this.#onClose(exchange));
    this.emit('request', record);
    if (exchange.ended) return;

    const { dialect, path, method } = record;
    const fail = (status: number, message: string, fixture?: unknown): void => {
      const error = genericError(dialect, status, message);
      exchange.write(jsonPlan(status, fixture ?? error.body, {}, {}), {});
    };
    if (method !== 'POST' || path !== `${BASE_PATHS[dialect]}/chat/completions`) {
      return fail(404, `No route for ${method} ${path}`);
    }
    const bearer = /^Bearer\s+(\S.*)$/i.exec(record.headers.authorization ?? '')?.[1]?.trim();
    if (!bearer || (this.#options.apiKey !== undefined && bearer !== this.#options.apiKey)) {
      return fail(401, 'Invalid Authentication', findError(dialect, '401')?.body);
    }
    if (!body) return fail(400, 'The request body is not a JSON object');

    let behaviour: MockBehaviour;
    try {
      behaviour = mergeBehaviours(this.#options.defaults, this.#options.behave?.(record), requestBehaviour(body));
    } catch (error) {
      return fail(500, `mock behave() threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    const failNow = shouldFail(behaviour, this.#failCounts);
    const respond = (): void => {
      if (behaviour.hang) return;
      if (behaviour.reset === 'before') return exchange.destroySocket();
      const plan = planResponse({
        dialect,
        seq: record.seq,
        body,
        headers: record.headers,
        behaviour,
        fail: failNow,
        nextCallId: () => ++this.#callIds,
      });
      exchange.write(plan, behaviour);
    };
    const latency = behaviour.latencyMs ?? this.#options.latencyMs ?? 0;
    if (latency > 0) exchange.later(latency, respond);
    else respond();
  }
}

/**
 * Starts a mock provider listening on options.host (127.0.0.1) and options.port (0: a free port).
 * Rejects with ERR_INVALID_REQUEST when an option is out of range (a negative latency, …), and with
 * the server's error when it cannot listen (a port in use).
 * @example
 * ```ts
 * import { createSupervisor } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * // Every Kimi request fails twice with a 503, then succeeds.
 * const mock = await startMockProvider({ behave: (request) => (request.dialect === 'kimi' ? { status: 503, failTimes: 2 } : undefined) });
 * const supervisor = createSupervisor({
 *   retry: { baseDelayMs: 10 },
 *   providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } },
 * });
 * const result = await supervisor.chat({ provider: 'kimi', prompt: 'Hello' });
 * console.log(result.metadata.session.attempts, result.content); // 3 Answer to "Hello" …
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const issues = mockOptionsIssues(options);
  if (issues.length > 0) throw new InvalidRequestError(`Invalid mock provider options: ${issues.join('; ')}`, issues);
  const host = options.host ?? '127.0.0.1';
  // Idle connections stay open a minute, as behind a provider's load balancer: with Node's 5 s a
  // loaded client (10,000 sessions starting) reuses sockets the server is closing (resets).
  const server = createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 65_000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : (options.port ?? 0);
  return new MockProvider(server, options, host, port);
}
