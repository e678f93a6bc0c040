// What the package's main entry offers of the applications that a host may start: the embedded mock
// provider and the views of a running supervisor. Their modules (an HTTP server, the mock's answers
// and fixtures, the views' pages) load when one is first started, not with the package: a host that
// never starts one does not carry them (~8 MB of RSS on its main thread). 'sessionpool/mock' and
// 'sessionpool/observe' export the same functions directly.
import type { Supervisor } from '../api/public.ts';
import type { MockProvider } from './mock/server.ts';
import type { MockProviderOptions } from './mock/types.ts';
import type { LiveView, LiveViewOptions } from './observe/live-view.ts';
import type { StatelyInspector, StatelyInspectorOptions } from './observe/stately.ts';

/**
 * Starts the embedded mock provider: the same as `startMockProvider` of 'sessionpool/mock' (which
 * documents its options), loaded on first use.
 * @example
 * ```ts
 * import { createSupervisor, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { glm: { baseURL: mock.baseURL('glm'), apiKey: 'sk-mock' } } });
 * console.log((await supervisor.chat({ provider: 'glm', prompt: 'Hello' })).content); // Answer to "Hello" …
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export async function startMockProvider(options?: MockProviderOptions): Promise<MockProvider> {
  const mock = await import('./mock/server.ts');
  return mock.startMockProvider(options);
}

/**
 * Serves the live view of a supervisor's sessions: the same as `startLiveView` of
 * 'sessionpool/observe' (which documents it), loaded on first use. Needs the optional peer `ws`.
 * @example
 * ```ts
 * import { createSupervisor, startLiveView, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const view = await startLiveView(supervisor);
 * console.log(view.url.startsWith('http://127.0.0.1:')); // true
 * await view.close();
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export async function startLiveView(supervisor: Supervisor, options?: LiveViewOptions): Promise<LiveView> {
  const view = await import('./observe/live-view.ts');
  return view.startLiveView(supervisor, options);
}

/**
 * Starts the Stately inspector for every session machine: the same as `startStatelyInspector` of
 * 'sessionpool/observe' (which documents it), loaded on first use. Needs the optional peer `@statelyai/inspect`.
 * @example
 * ```ts
 * import { createSupervisor, startStatelyInspector } from 'sessionpool';
 *
 * const stately = await startStatelyInspector();
 * const supervisor = createSupervisor({ inspect: stately.inspect });
 * console.log(stately.url.startsWith('http')); // true
 * await supervisor.close();
 * await stately.stop();
 * ```
 */
export async function startStatelyInspector(options?: StatelyInspectorOptions): Promise<StatelyInspector> {
  const stately = await import('./observe/stately.ts');
  return stately.startStatelyInspector(options);
}
