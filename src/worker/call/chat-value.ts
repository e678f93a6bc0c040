// The value a chat session returns: the reading of its rounds in the result's shape, with what the
// server said about itself (served model, id, created, fingerprint, tier, its request id) kept.
import type { CacheMetadata, ChatResult, ContinuationMetadata, ResponseMetadata } from '../../types/chat.ts';
import type { Reading } from '../providers/read.ts';
import { firstChoiceFields } from '../providers/result.ts';

/** What a worker returns for a chat; the supervisor adds `metadata.session`. */
export type ChatValue = Omit<ChatResult, 'metadata'> & {
  metadata: { continuation?: ContinuationMetadata; cache?: CacheMetadata; response?: ResponseMetadata };
};

export interface JoinedReading extends Reading {
  metadata: { continuation?: ContinuationMetadata };
}

export function chatValue(provider: string, requestedModel: string, joined: JoinedReading, providerRequestId: string | undefined): ChatValue {
  const { head, usageReported, choices, metadata, ...answer } = joined;
  const first = choices[0];
  // Continuation rounds extend the first choice: its message holds every round's text.
  if (first !== undefined && metadata.continuation !== undefined) {
    choices[0] = { ...first, message: { ...first.message, content: answer.content }, finishReason: answer.finishReason };
  }
  const response: ResponseMetadata = { usageReported };
  if (providerRequestId !== undefined) response.requestId = providerRequestId;
  const value: ChatValue = {
    provider,
    model: head.model ?? requestedModel,
    ...answer,
    ...firstChoiceFields(choices[0]),
    choices,
    metadata: { ...metadata, response },
  };
  if (head.id !== undefined) value.id = head.id;
  if (head.created !== undefined) value.created = head.created;
  if (head.systemFingerprint !== undefined) value.systemFingerprint = head.systemFingerprint;
  if (head.serviceTier !== undefined) value.serviceTier = head.serviceTier;
  return value;
}
