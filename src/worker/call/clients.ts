import OpenAI from 'openai';
import type { ResolvedProvider } from '../../wire/protocol.ts';
import { limitedFetch } from './limited-fetch.ts';
import { boundedRedirectFetch } from './redirects.ts';

// One SDK client per worker per provider configuration (and response limit), reused by every session of that worker.
const clients = new Map<string, OpenAI>();

export function clientFor(provider: ResolvedProvider, maxResponseBytes: number): OpenAI {
  const key = `${provider.baseURL}\n${provider.apiKey}\n${JSON.stringify(provider.headers ?? {})}\n${maxResponseBytes}`;
  let client = clients.get(key);
  if (client === undefined) {
    client = new OpenAI({
      apiKey: provider.apiKey,
      baseURL: provider.baseURL,
      // The engine owns the one retry loop; the deadline, not the SDK, bounds a call.
      maxRetries: 0,
      timeout: 24 * 3600 * 1000,
      // Failures reach the caller as typed errors; the SDK must not also write to the host's console.
      logLevel: 'off',
      fetch: limitedFetch(maxResponseBytes, provider.name, boundedRedirectFetch()),
      ...(provider.headers !== undefined ? { defaultHeaders: provider.headers } : {}),
    });
    clients.set(key, client);
  }
  return client;
}
