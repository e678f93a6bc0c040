// A strict TypeScript consumer of the shipped declarations (nodenext, no skipLibCheck).
import {
  createSupervisor,
  ProviderError,
  SessionPoolError,
  SessionTimeoutError,
  type ChatRequest,
  type ChatResult,
  type StreamEvent,
  type SupervisorStats,
} from 'sessionpool';
import { startMockProvider, type MockProvider } from 'sessionpool/mock';
import { formatPrometheus, MissingPeerDependencyError, type startLiveView } from 'sessionpool/observe';

export async function ask(prompt: string): Promise<string> {
  const mock: MockProvider = await startMockProvider();
  await using supervisor = createSupervisor({ providers: { glm: { baseURL: mock.baseURL('glm'), apiKey: 'k' } }, logger: false });
  const request: ChatRequest = { provider: 'glm', prompt, continuation: { maxAttempts: 2 }, timeoutMs: 5_000 };
  try {
    const result: ChatResult = await supervisor.chat(request);
    const tokens: number = result.usage.totalTokens;
    const sessionId: string = result.metadata.session.sessionId;
    return `${result.content} (${tokens} tokens, ${sessionId})`;
  } catch (error) {
    if (error instanceof SessionTimeoutError) return `timed out: ${error.code}`;
    if (error instanceof ProviderError) return `provider ${error.status ?? 'network'}: ${error.retryable}`;
    if (error instanceof SessionPoolError) return error.code;
    throw error;
  } finally {
    const stats: SupervisorStats = supervisor.stats();
    console.log(formatPrometheus(stats));
    await mock.close();
  }
}

export function describe(event: StreamEvent): string {
  if (event.type === 'delta') return event.text;
  return event.type === 'result' ? event.result.finishReason : event.type;
}

export const viewFailure = (error: unknown): string | undefined => (error instanceof MissingPeerDependencyError ? error.packageName : undefined);
export type LiveViewStarter = typeof startLiveView;
