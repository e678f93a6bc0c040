// The one internal entry of the applications in src/apps (the CLI, the MCP server, the load harness,
// the views, the mock) and of the benchmarks: the engine's public API, plus the few internals they
// share (URL redaction, validation helpers, request validation, the optional-peer loader, module
// URLs of the package). Nothing in the engine imports it; the package does not export it.
export * from './public.ts';
export { parseOrThrow } from '../errors/checks.ts';
export { importPeer } from '../errors/optional-peer.ts';
export { chatRequestSchema } from '../request/request.ts';
export { logLevel } from '../util/log.ts';
export { packageModuleURL } from '../util/module-url.ts';
export { Redactor, quoteURL, scrubURLs, splitURL, urlSecrets } from '../util/redact.ts';
export { formatIssue, headerValueIssue, positiveInt } from '../util/validation.ts';
// For the benchmark of result signing (benchmarks/result-signing.ts): the BullMQ transport's signers.
export { JobSigner } from '../transport/bullmq/job-signature.ts';
export { ResultGuard } from '../transport/bullmq/result-guard.ts';
export type { ProgressCursor } from '../transport/bullmq/result-guard.ts';
export { ResultSigner } from '../transport/bullmq/result-signature.ts';
// For the limiter simulation (benchmarks/limiters.ts): the learned limits' pure functions, run on virtual time.
export { initialState, take, throttled, succeeded, finish, type KeyLimits } from '../routing/budget.ts';
export { refusalKind, learnedNothing, type RefusalContext } from '../routing/adaptive.ts';
export { KeyTrack } from '../routing/key-track.ts';
export { DEFAULT_AIMD } from '../routing/limits.ts';
