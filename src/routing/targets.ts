// A route target: a provider and the call resolved for it (a request, then each of its fallbacks).
import type { ChatCall, ResolvedProvider } from '../wire/protocol.ts';

/** One target of a session, resolved and validated like the request itself. */
export interface RouteTarget {
  provider: ResolvedProvider;
  call: ChatCall;
}
