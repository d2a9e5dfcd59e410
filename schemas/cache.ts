/** Payloads of the response cache: what a look-up asks and what an entry keeps. */
import { z } from 'zod';
import { LlmRequest, LlmResult } from './llm';
import { PiiEntity } from './validation';

/** What the exact cache keeps: the answer as the vendor wrote it (masked), never raw PII. */
export const CachedAnswer = LlmResult.pick({
  text: true,
  output: true,
  toolCalls: true,
  finishReason: true,
  usage: true,
  provider: true,
  model: true,
  upstream: true,
  promptVariant: true,
}).extend({
  /** The PII nonce of the request that stored it: placeholders are rebased to the reader's. */
  piiNonce: z.string().optional(),
  storedAt: z.number(),
  expiresAt: z.number(),
});
export type CachedAnswer = z.infer<typeof CachedAnswer>;

/** A cached answer as a look-up returns it: rebased to the reader's nonce; `semantic` when a near-identical question found it. */
export type CacheHit = CachedAnswer & { semantic?: boolean };

export const CacheLookupInput = z.object({
  callId: z.string(),
  /** The request with masked messages. */
  request: LlmRequest,
  /** Model and prompt variant of the route's primary entry: the question's identity. */
  model: z.string(),
  promptVariant: z.string(),
  piiNonce: z.string().optional(),
  piiEntities: z.array(PiiEntity).optional(),
  /** The route's semantic cache (opt-in): near-identical short single-turn questions share an answer. */
  semantic: z
    .object({
      enabled: z.boolean(),
      threshold: z.number(),
      maxPromptChars: z.number(),
      embedder: z.enum(['local', 'vendor']).default('local'),
      embeddingProvider: z.string().optional(),
      embeddingModel: z.string().default('text-embedding-3-small'),
    })
    .optional(),
});
export type CacheLookupInput = z.infer<typeof CacheLookupInput>;

/** A store: the look-up's identity, the answer (masked, with the storing request's nonce) and how long it lives. */
export type CacheStoreInput = CacheLookupInput & { answer: Omit<CachedAnswer, 'storedAt' | 'expiresAt'>; ttlMs: number };
