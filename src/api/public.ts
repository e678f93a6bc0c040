// The engine's public API: every name the package exports from the engine (the supervisor, the
// openai-shaped client, errors, types, transports). src/index.ts, the package's entry, re-exports
// all of it beside the applications' faces (the mock provider, the views).

// The supervisor: the one object a host creates.
export { createSupervisor, Supervisor } from '../supervisor/supervisor.ts';
export type { SupervisorEvents } from '../supervisor/supervisor.ts';
export type { SupervisorOptions } from '../config/options.ts';
export { BUILT_IN_PROVIDERS } from '../request/providers.ts';
export type { BuiltInProvider } from '../types/options.ts';

// Options and their parts.
export type { ProviderConfig, Dialect, InspectOption, RetryOptions } from '../types/options.ts';
export type {
  LimitsConfig,
  LimitPreset,
  RoutingOptions,
  BreakerSettings,
  AimdSettings,
  LimiterStore,
  KeyState,
  Bucket,
  LearnedLimits,
} from '../types/options.ts';
export type { FallbackTarget, RouteEntry, RouteOutcome } from '../types/route.ts';

// Requests and results.
export type { ChatRequest, ExecuteRequest, ChatParameters, ContinuationOptions, ToolChoice, ToolDefinition } from '../types/request.ts';
export type { JsonSchema, JsonSchemaResponseFormat, ResponseFormat, StructuredOutputSupport } from '../types/structured.ts';
export type {
  AssistantMessage,
  CacheMetadata,
  ChatChoice,
  ChatMessage,
  ChatResult,
  ContentPart,
  ContinuationMetadata,
  CustomToolCall,
  Logprobs,
  ResponseHead,
  ResponseMetadata,
  SessionMetadata,
  ToolCall,
  Usage,
} from '../types/chat.ts';
export type { HandlerContext, SessionHandler } from '../types/handler.ts';

// Sessions: their states, events, stream events and the end of a supervisor.
export type { SessionKind, SessionState, SessionOutcome, StreamEvent, CloseOptions, CloseReport, ExecuteResult } from '../types/session.ts';
export type { TransitionEvent, StartedEvent, RetryEvent, CircuitEvent, FallbackEvent, CircuitChange, CircuitState } from '../types/session.ts';
export type { EngineEvents, RoutingEvents } from '../types/session.ts';
export { sessionMachine } from '../engine/session/machine.ts';
export type { SessionMachine, SessionContext, SessionInput, SessionEvent } from '../engine/session/machine.ts';

// Stats and metrics.
export type { SupervisorStats, LatencySummary, BucketHistogram, ThreadHeap, RoutingStats, KeyStats, CircuitSnapshot, StoreHealth } from '../types/stats.ts';
export { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from '../engine/prometheus.ts';
export type { ModelPrice, ListedPrice, PriceTable, SessionCost, CostStats, Budget, BudgetOptions, TelemetryOptions } from '../types/cost.ts';
export { PRICES } from '../telemetry/prices.ts';

// Errors: match on `code`; the classes are rebuilt on the main thread, so `instanceof` works too.
export {
  SessionPoolError,
  InvalidRequestError,
  QueueFullError,
  SessionTimeoutError,
  SessionAbortedError,
  ProviderError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  UnprocessableEntityError,
  RateLimitError,
  InternalServerError,
  ProviderResponseError,
  WorkerCrashedError,
  TransportError,
  SupervisorClosedError,
  HandlerError,
  HandlerResultError,
  ListenerError,
  ResponseTooLargeError,
  MissingPeerDependencyError,
  BudgetExceededError,
} from '../errors/errors.ts';
export type { ProviderErrorFields } from '../errors/errors.ts';
export type { ErrorCode, WireError, SessionIds } from '../types/errors.ts';

// The OpenAI-shaped client (`supervisor.openai()`).
export { SessionPoolOpenAI, Completions } from '../openai/client.ts';
export type { WithRequestID } from '../openai/client.ts';
export type { OpenAIClientOptions, ChatEngine, CreateOptions, SDKRequestOptions } from '../types/openai.ts';
export { ChatCompletionChunkStream } from '../openai/chunk-stream.ts';
export { sessionOf, resultOf } from '../openai/sessions.ts';

// Time: tests pass a ManualClock as `clock`.
export { ManualClock, systemClock } from '../util/clock.ts';
export type { Clock, TimerHandle } from '../util/clock.ts';

// Where sessions run beyond this process: BullMQ on Redis.
export type { Transport } from '../seam/seam.ts';
export { bullmq, createWorker, redisLimiterStore } from '../transport/bullmq/index.ts';
export type {
  BullMQTransport,
  BullMQTransportOptions,
  BullMQTransportStats,
  RedisConnection,
  RedisConnectionOptions,
  WorkerHost,
  WorkerHostOptions,
  WorkerHostStats,
} from '../transport/bullmq/index.ts';
