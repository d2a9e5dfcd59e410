/**
 * What an answered call keeps: the answer for the cache (when the route
 * caches and the answer may be cached) and the interaction record — masked or
 * raw per the route's PII log mode. Pure: the llmCall workflow and the
 * answerCall activity build the same finish from the same answer.
 */
import type { CacheStoreInput } from '../../schemas/cache';
import type { LlmRequest, LlmResult } from '../../schemas/llm';
import type { OpenCall } from './open';
import { restoreResult } from './privacy';
import { cacheableAnswer } from './result';

/** One interaction record. */
export interface RecordInteractionInput {
  /** The request and result as the interaction log may keep them (masked unless `pii.logMode` is `raw`). */
  request: LlmRequest;
  result: LlmResult;
  /** The logical prompt of the entry that answered. */
  prompt?: string;
}

export interface FinishCallInput {
  /** The answer to keep, when the route caches and the answer may be cached. */
  store?: CacheStoreInput;
  record: RecordInteractionInput;
}

/** The caller's answer (PII restored) and what to keep of it. */
export function finishOf(call: OpenCall, result: LlmResult, prompt: string | undefined): { restored: LlmResult; finish: FinishCallInput } {
  const restored = restoreResult(result, call.masked.entities);
  const logRaw = call.plan.pii.logMode === 'raw';
  const store =
    call.cacheQuery && !result.cached && !result.toolCalls?.length
      ? {
          ...call.cacheQuery,
          answer: { ...cacheableAnswer(result), ...(call.masked.nonce ? { piiNonce: call.masked.nonce } : {}) },
          ttlMs: call.plan.cache.exact.ttlMs,
        }
      : undefined;
  // The interaction log keeps what was asked and how it went; embedding vectors are the caller's alone.
  const { embeddings: _vectors, logprobs: _logprobs, ...recorded } = logRaw ? restored : result;
  return {
    restored,
    finish: { ...(store ? { store } : {}), record: { request: logRaw ? call.asked : call.request, result: recorded, ...(prompt ? { prompt } : {}) } },
  };
}
