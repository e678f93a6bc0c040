// The engine's public API: every name the package exports from the engine (the supervisor, the
// openai-shaped client, errors, types, transports). src/index.ts, the package's entry, re-exports
// all of it beside the applications' faces (the mock provider, the views).
export { createSupervisor, Supervisor } from '../supervisor/supervisor.ts';
export type { CloseOptions, CloseReport, ExecuteResult } from '../types/session.ts';
export type { ThreadHeap } from '../types/stats.ts';
export type { ChatRequest, ExecuteRequest } from '../types/request.ts';
export type { StreamEvent } from '../types/session.ts';
export type { TransitionEvent, StartedEvent, RetryEvent, CircuitEvent, FallbackEvent } from '../types/session.ts';
export type { EngineEvents, RoutingEvents, CircuitState, SessionKind } from '../types/session.ts';
export type { SupervisorEvents } from '../supervisor/supervisor.ts';
export type { SupervisorOptions, RetryOptions } from '../config/options.ts';
export type { ProviderConfig } from '../types/options.ts';
export type { InspectOption } from '../types/options.ts';
// Routing: limits, breakers, AIMD, and the limiter's store (a custom LimiterStore implements `update`).
export type { LimitsConfig, LimitPreset, RoutingOptions, BreakerSettings, AimdSettings, LimiterStore, KeyState, Bucket } from '../types/options.ts';
export type { FallbackTarget, RouteEntry, RouteOutcome } from '../types/route.ts';
export { BUILT_IN_PROVIDERS } from '../request/providers.ts';
export type { BuiltInProvider } from '../request/providers.ts';
export type { SupervisorStats, LatencySummary } from '../types/stats.ts';
export type { RoutingStats, KeyStats, CircuitSnapshot, StoreHealth } from '../types/stats.ts';
export type { Dialect } from '../types/options.ts';
export type { ChatMessage, ChatResult, Usage, ToolCall } from '../types/chat.ts';
export type {
  AssistantMessage,
  CacheMetadata,
  ChatChoice,
  ContentPart,
  ContinuationMetadata,
  CustomToolCall,
  Logprobs,
  ResponseMetadata,
  SessionMetadata,
} from '../types/chat.ts';
export type { ChatParameters, ContinuationOptions, ToolChoice, ToolDefinition } from '../types/request.ts';
export type { ResponseHead } from '../types/chat.ts';
export { SessionPoolOpenAI, Completions } from '../openai/client.ts';
export type { OpenAIClientOptions, ChatEngine } from '../openai/client.ts';
export type { CreateOptions } from '../openai/params.ts';
export { ChatCompletionChunkStream } from '../openai/chunk-stream.ts';
export { sessionOf, resultOf } from '../openai/sessions.ts';
export type { HandlerContext, SessionHandler } from '../types/handler.ts';
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
} from '../errors/errors.ts';
export type { ErrorCode, WireError, SessionIds } from '../types/errors.ts';
export type { ProviderErrorFields } from '../errors/errors.ts';
export { MissingPeerDependencyError } from '../errors/errors.ts';
export { sessionMachine } from '../engine/session/machine.ts';
export type { SessionContext, SessionInput } from '../engine/session/machine.ts';
export type { SessionState, SessionOutcome } from '../types/session.ts';
export { ManualClock, systemClock } from '../util/clock.ts';
export type { Clock, TimerHandle } from '../util/clock.ts';
export { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from '../engine/prometheus.ts';
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
export type { Transport } from '../seam/seam.ts';
export type { CircuitChange } from '../types/session.ts';
export type { SessionMachine, SessionEvent } from '../engine/session/machine.ts';
