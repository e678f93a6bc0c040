export { createSupervisor, Supervisor } from './supervisor/supervisor.ts';
export type { CloseOptions, CloseReport, ExecuteResult } from './supervisor/supervisor.ts';
export type { ThreadHeap } from './types/stats.ts';
export type { ChatRequest, ExecuteRequest } from './request/request.ts';
export type { StreamEvent } from './types/session.ts';
export type { TransitionEvent, StartedEvent, RetryEvent, SessionSummary } from './types/session.ts';
export type { SupervisorEvents } from './supervisor/supervisor.ts';
export type { SupervisorOptions } from './config/options.ts';
export type { ProviderConfig } from './types/options.ts';
export type { InspectOption } from './types/options.ts';
export { BUILT_IN_PROVIDERS } from './request/providers.ts';
export type { SupervisorStats, LatencySummary } from './types/stats.ts';
export type { Dialect } from './types/options.ts';
export type { ChatMessage, ChatResult, Usage, ToolCall } from './types/chat.ts';
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
} from './types/chat.ts';
export type { ChatParameters, ContinuationOptions, ToolChoice, ToolDefinition } from './types/request.ts';
export type { ResponseHead } from './types/chat.ts';
export { SessionPoolOpenAI, Completions } from './openai/client.ts';
export type { OpenAIClientOptions } from './openai/client.ts';
export type { CreateOptions } from './openai/params.ts';
export { ChatCompletionChunkStream } from './openai/chunk-stream.ts';
export { sessionOf, resultOf } from './openai/sessions.ts';
export type { HandlerContext, SessionHandler } from './worker/call/run-execute.ts';
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
} from './errors/errors.ts';
export type { ErrorCode, WireError } from './types/errors.ts';
export { MissingPeerDependencyError } from './errors/errors.ts';
export { sessionMachine } from './engine/session/machine.ts';
export type { SessionContext } from './engine/session/machine.ts';
export type { SessionState, SessionOutcome } from './types/session.ts';
export { ManualClock, systemClock } from './util/clock.ts';
export type { Clock, TimerHandle } from './util/clock.ts';
export { startMockProvider } from './apps/mock/server.ts';
export { startStatelyInspector } from './apps/observe/stately.ts';
export type { StatelyInspector, StatelyInspectorOptions } from './apps/observe/stately.ts';
export { startLiveView } from './apps/observe/live-view.ts';
export type { LiveView, LiveViewOptions } from './apps/observe/live-view.ts';
export { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from './engine/prometheus.ts';
export { sessionMachineJSON, machineConfigJSON } from './apps/observe/machine-export.ts';
export type { MachineConfigJSON, StateConfigJSON, TransitionConfigJSON } from './apps/observe/machine-export.ts';
export { machineToMermaid, sessionMachineMermaid } from './apps/observe/mermaid.ts';
export { bullmq, createWorker, redisLimiterStore } from './transport/bullmq/index.ts';
export type {
  BullMQTransport,
  BullMQTransportOptions,
  BullMQTransportStats,
  RedisConnection,
  RedisConnectionOptions,
  WorkerHost,
  WorkerHostOptions,
  WorkerHostStats,
} from './transport/bullmq/index.ts';
export type { Transport } from './seam/seam.ts';
