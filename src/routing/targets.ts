import type { ChatCall, ResolvedProvider } from '../wire/protocol.ts';

/** One target of a session, resolved and validated like the request itself. */
export interface RouteTarget {
  provider: ResolvedProvider;
  call: ChatCall;
}
