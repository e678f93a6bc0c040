import { createSupervisor, startMockProvider, type Supervisor, type SupervisorOptions, type TransitionEvent } from '../../src/index.ts';
import type { MockProvider, MockProviderOptions } from '../../src/apps/mock/server.ts';

export const KEYS = { kimi: 'sk-kimi-test-0123456789', glm: 'glm-test-key-9876543210', openai: 'sk-openai-test-5555' } as const;

export interface Harness {
  mock: MockProvider;
  supervisor: Supervisor;
  transitions: TransitionEvent[];
  close(): Promise<void>;
}

/** A mock provider and a supervisor whose three built-in providers point at it. */
export async function harness(options: { supervisor?: SupervisorOptions; mock?: MockProviderOptions } = {}): Promise<Harness> {
  const mock = await startMockProvider(options.mock);
  const supervisor = createSupervisor({
    threads: 2,
    logger: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...options.supervisor,
    providers: {
      kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEYS.kimi },
      glm: { baseURL: mock.baseURL('glm'), apiKey: KEYS.glm },
      openai: { baseURL: mock.baseURL('openai'), apiKey: KEYS.openai },
      ...options.supervisor?.providers,
    },
  });
  const transitions: TransitionEvent[] = [];
  supervisor.on('transition', (event) => transitions.push(event));
  return {
    mock,
    supervisor,
    transitions,
    async close() {
      await supervisor.close({ timeoutMs: 1000 });
      await mock.close();
    },
  };
}

/** Resolves with the first transition that matches, recorded or still to come. */
export function waitForTransition(h: Harness, match: (e: TransitionEvent) => boolean): Promise<TransitionEvent> {
  const seen = h.transitions.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const listener = (event: TransitionEvent) => {
      if (!match(event)) return;
      h.supervisor.off('transition', listener);
      resolve(event);
    };
    h.supervisor.on('transition', listener);
  });
}

export const released = (sessionId: string) => (e: TransitionEvent) => e.sessionId === sessionId && e.to === 'released';

/** The error a promise rejects with (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code: string; [key: string]: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code: string; [key: string]: unknown };
  }
  throw new Error('expected a rejection, got a result');
}

export const user = (content: string) => [{ role: 'user' as const, content }];
