export { createSupervisor, Supervisor } from './supervisor/supervisor.ts';
export type { CloseOptions, CloseReport, ExecuteResult } from './supervisor/supervisor.ts';
export type { ThreadHeap } from './pool/threads.ts';
export type { ChatRequest, ExecuteRequest } from './supervisor/request.ts';
export type { StreamEvent } from './supervisor/event-stream.ts';
export type { TransitionEvent, StartedEvent, RetryEvent, SessionSummary } from './supervisor/session-record.ts';
export type { SupervisorEvents } from './supervisor/supervisor.ts';
export type { SupervisorOptions, ProviderConfig, InspectOption } from './options.ts';
export { BUILT_IN_PROVIDERS } from './options.ts';
export type { SupervisorStats, LatencySummary } from './metrics.ts';
export type { ChatMessage, ChatResult, Usage, ToolCall, Dialect } from './protocol.ts';
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
} from './chat-types.ts';
export type { ChatParameters, ContinuationOptions, ToolChoice, ToolDefinition } from './chat-request.ts';
export type { ResponseHead } from './protocol.ts';
export { SessionPoolOpenAI, Completions } from './openai/client.ts';
export type { OpenAIClientOptions } from './openai/client.ts';
export type { CreateOptions } from './openai/params.ts';
export { ChatCompletionChunkStream } from './openai/chunk-stream.ts';
export { sessionOf, resultOf } from './openai/sessions.ts';
export type { HandlerContext, SessionHandler } from './call/run-execute.ts';
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
} from './errors.ts';
export type { ErrorCode, WireError } from './errors.ts';
export { MissingPeerDependencyError } from './optional-peer.ts';
export { sessionMachine } from './session/machine.ts';
export type { SessionContext, SessionState, SessionOutcome } from './session/machine.ts';
export { ManualClock, systemClock } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { startMockProvider } from './mock/server.ts';
export { startStatelyInspector } from './observe/stately.ts';
export type { StatelyInspector, StatelyInspectorOptions } from './observe/stately.ts';
export { startLiveView } from './observe/live-view.ts';
export type { LiveView, LiveViewOptions } from './observe/live-view.ts';
export { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from './observe/prometheus.ts';
export { sessionMachineJSON, machineConfigJSON } from './observe/machine-export.ts';
export type { MachineConfigJSON, StateConfigJSON, TransitionConfigJSON } from './observe/machine-export.ts';
export { machineToMermaid, sessionMachineMermaid } from './observe/mermaid.ts';
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
export type { Transport } from './transport/transport.ts';
