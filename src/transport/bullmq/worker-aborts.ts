// Aborts reach worker hosts on a Redis channel: every host hears every abort and acts on the
// sessions it runs. An abort for a session not here yet (its job still on its way) is kept for a
// while, and the job ends at once when it arrives.
import type { Redis } from 'ioredis';
import type { AbortReason } from '../../types/session.ts';
import type { AbortMessage } from './job.ts';

const KEEP_MS = 120_000;
const REASONS: ReadonlySet<string> = new Set<AbortReason>(['timeout', 'aborted', 'closed']);

export class RecentAborts {
  readonly #kept = new Map<string, { reason: AbortReason; at: number }>();

  keep(sessionId: string, reason: AbortReason): void {
    this.#kept.set(sessionId, { reason, at: Date.now() });
    this.#prune();
  }

  /** Whether an abort is kept for the session (it stays kept). */
  has(sessionId: string): boolean {
    return this.#kept.has(sessionId);
  }

  /** The abort kept for the session, if any (and forgets it). */
  take(sessionId: string): AbortReason | undefined {
    const kept = this.#kept.get(sessionId);
    this.#kept.delete(sessionId);
    return kept?.reason;
  }

  #prune(): void {
    const before = Date.now() - KEEP_MS;
    for (const [sessionId, { at }] of this.#kept) {
      if (at >= before) break;
      this.#kept.delete(sessionId);
    }
  }
}

export async function subscribeAborts(subscriber: Redis, channel: string, onAbort: (message: AbortMessage) => void): Promise<void> {
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return; // Not ours: ignored.
    }
    // Anyone with Redis access can publish here: only the protocol's messages are acted on (a reason
    // such as "constructor" would pick a member of Object.prototype as the session's error message).
    const { sessionId, reason } = (message ?? {}) as Partial<Record<keyof AbortMessage, unknown>>;
    if (typeof sessionId === 'string' && typeof reason === 'string' && REASONS.has(reason)) onAbort({ sessionId, reason: reason as AbortReason });
  });
  await subscriber.subscribe(channel);
}
