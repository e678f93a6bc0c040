// A request's targets: itself, then its fallbacks (its own, else its provider's), each validated
// as if it were the request sent to that provider, so that a bad fallback is refused up front.
import { InvalidRequestError } from '../errors/errors.ts';
import { prepareChat, type PreparedChat, type RequestDefaults } from '../request/request.ts';
import type { ChatRequest } from '../types/request.ts';
import type { RoutingSettings } from './router.ts';
import type { RouteTarget } from './targets.ts';

export function routeTargets(
  request: ChatRequest,
  prepared: PreparedChat,
  options: RequestDefaults & { routing: Pick<RoutingSettings, 'fallbacks'> },
  stream: boolean,
): RouteTarget[] {
  const primary: RouteTarget = { provider: prepared.provider, call: prepared.call };
  const own = request.fallbacks !== undefined;
  const fallbacks = request.fallbacks ?? options.routing.fallbacks.get(prepared.provider.name) ?? [];
  const targets = [primary];
  for (const [i, fallback] of fallbacks.entries()) {
    let next: PreparedChat;
    try {
      next = prepareChat({ ...request, provider: fallback.provider, model: fallback.model, fallbacks: undefined }, options, stream);
    } catch (error) {
      if (!(error instanceof InvalidRequestError)) throw error;
      const where = own ? `fallbacks[${i}]` : `providers.${prepared.provider.name}.fallbacks[${i}]`;
      const issues = error.issues.map((issue) => `\`${where}\` (${fallback.provider}): ${issue}`);
      throw new InvalidRequestError(`Invalid request: ${issues.join('; ')}`, issues);
    }
    const same = targets.some((t) => t.provider.name === next.provider.name && t.call.model === next.call.model);
    if (!same) targets.push({ provider: next.provider, call: next.call });
  }
  return targets;
}
