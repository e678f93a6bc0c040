// One account of a session's answer text, in order: every delta the caller sees and the result's
// `content` both come from it, so they always agree — across tool rounds (Kimi's $web_search),
// continuation rounds, and rounds that fail after they streamed text. Text is scrubbed of secrets
// here, once, before it is counted, sent or kept.
import { StreamRedactor, type Redactor } from '../../util/redact.ts';

export class TextAccount {
  #text = '';
  #deliveredThisAttempt = false;
  readonly #redactor: Redactor;
  readonly #stream: StreamRedactor;
  readonly #emit: (text: string) => Promise<void> | undefined;

  /** `emit` sends a delta; the promise it may return asks the reader to wait (back-pressure). */
  constructor(redactor: Redactor, emit: (text: string) => Promise<void> | undefined) {
    this.#redactor = redactor;
    this.#stream = new StreamRedactor(redactor);
    this.#emit = emit;
  }

  /** All text kept so far. */
  get text(): string {
    return this.#text;
  }

  /** Whether the current attempt has handed text to the caller (then it must not be tried again). */
  get deliveredThisAttempt(): boolean {
    return this.#deliveredThisAttempt;
  }

  /** A new provider call starts: text held back by a failed attempt that delivered nothing is forgotten. */
  beginAttempt(): void {
    this.#stream.drop();
    this.#deliveredThisAttempt = false;
  }

  /** Streamed text as it arrives. */
  stream(piece: string): Promise<void> | undefined {
    return this.#send(this.#stream.push(piece));
  }

  /** A whole round's text (not streamed). */
  add(text: string): void {
    this.#text += this.#redactor.text(text);
  }

  /** Forgets the text kept so far: an answer never handed out (not streamed) that is asked again. */
  restart(): void {
    this.#text = '';
  }

  /** The round is over and its text is kept: what was held back goes out too. */
  commit(): void {
    void this.#send(this.#stream.flush());
  }

  #send(text: string): Promise<void> | undefined {
    if (text === '') return undefined;
    this.#text += text;
    this.#deliveredThisAttempt = true;
    return this.#emit(text);
  }
}
