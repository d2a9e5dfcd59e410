/**
 * What a call knows once it is planned: its deadline, the request as vendors
 * see it (masked), and the cache's question when the cache may answer it.
 * Pure; the llmCall workflow and its first local activity derive it alike
 * from the same masking.
 */
import type { CallPlan, LlmCallInput } from '../../schemas/call';
import type { CacheLookupInput } from '../../schemas/cache';
import type { LlmRequest } from '../../schemas/llm';
import { applyMasking, type MaskedCall, type Masking } from './privacy';
import type { ResultContext } from './result';

export interface OpenCall extends ResultContext {
  plan: CallPlan;
  /** Epoch ms (workflow time) after which no attempt starts. */
  deadlineAt: number;
  /** The request as the caller sent it: the interaction log keeps it only with `pii.logMode: raw`. */
  asked: LlmRequest;
  masked: MaskedCall;
  /** The request every vendor, the cache and (by default) the interaction log see: PII masked. */
  request: LlmRequest;
  /** The cache's question; absent when the route has no cache or the request opted out. */
  cacheQuery?: CacheLookupInput;
}

/** The route caches answers and the request did not opt out. */
export function isCacheable(plan: CallPlan, request: Pick<LlmRequest, 'cache' | 'embedding' | 'params'>): boolean {
  // The cache keeps answers, not vectors or log probabilities: such calls always ask a vendor.
  return (plan.cache.exact.enabled || plan.cache.semantic.enabled) && request.cache !== false && !request.embedding && !request.params?.logprobs;
}

/** The cache look-up (and store) of a call, keyed by the route's primary entry; undefined when the cache is off for it. */
export function cacheQueryOf(callId: string, plan: CallPlan, masked: MaskedCall): CacheLookupInput | undefined {
  if (!isCacheable(plan, masked.request)) return undefined;
  const primary = plan.entries[0]!;
  return {
    callId,
    request: masked.request,
    model: primary.model,
    promptVariant: primary.prompt ?? 'none',
    ...(masked.nonce ? { piiNonce: masked.nonce } : {}),
    ...(masked.entities.length ? { piiEntities: masked.entities } : {}),
    ...(plan.cache.semantic.enabled ? { semantic: plan.cache.semantic } : {}),
  };
}

/** The call once prepared: `masking` is what the first local activity's masking changed (lib/call/masking.ts). */
export function openCall(input: LlmCallInput, plan: CallPlan, masking: Masking | undefined, at: { workflowId: string; startedAt: number }): OpenCall {
  const masked = applyMasking(input.request, masking);
  const cacheQuery = cacheQueryOf(input.callId, plan, masked);
  return {
    callId: input.callId,
    workflowId: at.workflowId,
    startedAt: at.startedAt,
    deadlineAt: at.startedAt + (input.request.deadlineMs ?? plan.callTimeoutMs),
    plan,
    asked: input.request,
    masked,
    request: masked.request,
    ...(cacheQuery ? { cacheQuery } : {}),
  };
}
