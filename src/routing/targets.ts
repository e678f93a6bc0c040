// Fallback targets as written in options and requests, and the route a session reports.
import { z } from 'zod';
import type { ChatCall, ResolvedProvider } from '../wire/protocol.ts';

export const fallbacksSchema = z.array(z.strictObject({ provider: z.string().min(1), model: z.string().min(1).optional() })).max(8);

/** One target of a session, resolved and validated like the request itself. */
export interface RouteTarget {
  provider: ResolvedProvider;
  call: ChatCall;
}
