/**
 * The mock's answer text, token counts and stream pieces (pure functions).
 *
 * A mock "token" is one whitespace-separated word: prompt_tokens = words in all message contents,
 * completion_tokens = words of the answer text sent in this response.
 */
import { lastUserText, messageText } from './behaviour.ts';
import type { MockBehaviour, MockDialect, MockMessage } from './types.ts';

const FILLER = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et ' +
  'dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco laboris nisi'
).split(' ');

export const DEFAULT_COMPLETION_TOKENS = 16;

export function countWords(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}

export function promptTokens(messages: readonly MockMessage[]): number {
  let total = 0;
  for (const message of messages) total += countWords(messageText(message.content));
  return total;
}

/** `Answer to "<snippet>"` followed by filler; the filler word at position p is FILLER[p % n]. */
export function generatedWords(question: string, count: number): string[] {
  const snippet = question.replace(/\s+/g, ' ').trim().slice(0, 40);
  const words = `Answer to "${snippet}"`.split(' ');
  for (let p = words.length; p < count; p++) words.push(FILLER[p % FILLER.length] ?? 'lorem');
  words.length = Math.min(words.length, Math.max(0, count));
  return words;
}

/**
 * Continuation rounds already done in a length chain. Kimi partial mode (last message is
 * `{role:'assistant', partial:true}` holding all text so far): words of that text divided by the
 * words per round (integer division). Otherwise (GLM/OpenAI style: each round adds the assistant
 * text plus a user "continue" turn): the number of assistant messages in the request.
 */
export function roundsDone(dialect: MockDialect, messages: readonly MockMessage[], perRound: number): number {
  const last = messages.at(-1);
  if (dialect === 'kimi' && last?.role === 'assistant' && last.partial === true) {
    return Math.floor(countWords(messageText(last.content)) / Math.max(1, perRound));
  }
  return messages.filter((m) => m.role === 'assistant').length;
}

/**
 * Splits text into `count` pieces (default: one per word, each piece carrying its leading
 * whitespace). When `count` exceeds the words, splits by characters (at most one per character).
 */
export function splitPieces(text: string, count?: number): string[] {
  if (text === '') return [];
  const words: string[] = text.match(/\s*\S+/g) ?? [];
  const rest = text.slice(words.join('').length); // trailing whitespace, or all of a blank text
  if (rest !== '') {
    if (words.length > 0) words[words.length - 1] += rest;
    else words.push(rest);
  }
  const n = count === undefined || count < 1 ? words.length : Math.floor(count);
  const units = n <= words.length ? words : Array.from(text);
  const pieces = Math.min(n, units.length);
  const out: string[] = [];
  for (let i = 0; i < pieces; i++) {
    out.push(units.slice(Math.floor((i * units.length) / pieces), Math.floor(((i + 1) * units.length) / pieces)).join(''));
  }
  return out;
}

export interface Answer {
  text: string;
  finishReason: string;
  completionTokens: number;
}

/**
 * The answer for this request. Without lengthRounds: `content`, or a generated text of
 * max(completionTokens, chunks) words. With lengthRounds R the full answer has R + 1 rounds of
 * `perRound` words (generated: max(completionTokens, chunks); content: its words split evenly);
 * round k (see roundsDone) sends words [k * perRound, (k + 1) * perRound) — prefixed by a space
 * for k > 0 so the rounds concatenate — with finish 'length' while k < R.
 */
export function buildAnswer(dialect: MockDialect, messages: readonly MockMessage[], b: MockBehaviour): Answer {
  const rounds = Math.max(0, Math.floor(b.lengthRounds ?? 0));
  let text: string;
  let round = 0;
  if (b.content !== undefined && rounds === 0) {
    text = b.content;
  } else {
    let words: string[];
    let perRound: number;
    if (b.content !== undefined) {
      words = b.content.split(/\s+/).filter(Boolean);
      perRound = Math.max(1, Math.ceil(words.length / (rounds + 1)));
    } else {
      perRound = Math.max(Math.floor(b.completionTokens ?? DEFAULT_COMPLETION_TOKENS), Math.floor(b.chunks ?? 0));
      words = generatedWords(lastUserText(messages), perRound * (rounds + 1));
    }
    round = rounds === 0 ? 0 : Math.min(rounds, roundsDone(dialect, messages, perRound));
    const slice = words.slice(round * perRound, (round + 1) * perRound).join(' ');
    text = round > 0 && slice !== '' ? ` ${slice}` : slice;
  }
  return {
    text,
    finishReason: round < rounds ? 'length' : (b.finishReason ?? 'stop'),
    completionTokens: countWords(text),
  };
}
