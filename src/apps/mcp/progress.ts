/**
 * Streamed answer text as `notifications/progress`, only for a call that sent a progress token.
 * Deltas are coalesced per event-loop turn (a 500-chunk answer arrives in a few batches, and a
 * notification per chunk would cost the client as much as the answer); `progress` is the number of
 * characters received so far, `message` the new text.
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import { InvalidRequestError } from '../../api/public.ts';

/**
 * Every notification echoes the client's token: a 1 MiB token on a 200-chunk answer made 206 MB of
 * output from 1 MiB of input (kept in memory while the client does not read). Tokens are short
 * (the SDK's are numbers); a longer one is refused before the call starts.
 */
export const MAX_PROGRESS_TOKEN_LENGTH = 256;

/** The error for a call whose progress token is too long to echo, else undefined. */
export function progressTokenError(ctx: ServerContext): InvalidRequestError | undefined {
  const token = ctx.mcpReq._meta?.progressToken;
  if (typeof token !== 'string' || token.length <= MAX_PROGRESS_TOKEN_LENGTH) return undefined;
  const issue = `\`_meta.progressToken\`: at most ${MAX_PROGRESS_TOKEN_LENGTH} characters, got ${token.length}`;
  return new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
}

export class ProgressReporter {
  readonly #ctx: ServerContext;
  readonly #token: string | number;
  #pending = '';
  #received = 0;
  #scheduled = false;
  #sent: Promise<void> = Promise.resolve();

  constructor(ctx: ServerContext, token: string | number) {
    this.#ctx = ctx;
    this.#token = token;
  }

  /** The reporter of a call, or undefined when the client asked for no progress. */
  static of(ctx: ServerContext): ProgressReporter | undefined {
    const token = ctx.mcpReq._meta?.progressToken;
    return token === undefined ? undefined : new ProgressReporter(ctx, token);
  }

  readonly push = (text: string): void => {
    this.#pending += text;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#send());
  };

  /** Sends what is pending and waits for every notification, so that all precede the result. */
  async flush(): Promise<void> {
    this.#send();
    await this.#sent;
  }

  #send(): void {
    this.#scheduled = false;
    if (this.#pending === '') return;
    const message = this.#pending;
    this.#pending = '';
    this.#received += message.length;
    const params = { progressToken: this.#token, progress: this.#received, message };
    // A notification that cannot be sent (the client left) is not the call's failure.
    this.#sent = this.#sent.then(() => this.#ctx.mcpReq.notify({ method: 'notifications/progress', params })).catch(() => {});
  }
}
