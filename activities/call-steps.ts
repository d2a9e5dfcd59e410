/**
 * The steps around a call's attempts, each one local activity: `prepareCall`
 * (plan the route, mask PII, then ask the cache) before, `finishCall` (store the answer
 * in the cache and record the interaction, at once) after. Fewer, larger
 * local activities: each one in sequence costs a round of the workflow task
 * (measured ≈ 3 ms here, docs/benchmarks.md), so the happy path runs three —
 * prepare, attempt, finish — in its one workflow task.
 */
import { maskingOf } from '../lib/call/masking';
import { cacheQueryOf, isCacheable } from '../lib/call/open';
import { applyMasking, type Masking } from '../lib/call/privacy';
import type { CallPlan, LlmCallInput } from '../schemas/call';
import type { CacheHit, CacheLookupInput, CacheStoreInput } from '../schemas/cache';
import type { RecordInteractionInput } from './interactions';

export interface CallStepDeps {
  planCall: (input: LlmCallInput) => Promise<CallPlan>;
  lookupCachedAnswer: (input: CacheLookupInput) => Promise<CacheHit | null>;
  storeCachedAnswer: (input: CacheStoreInput) => Promise<void>;
  recordInteraction: (input: RecordInteractionInput) => Promise<void>;
}

export interface PreparedCall {
  plan: CallPlan;
  /** What PII masking changed in the request (absent when PII handling is off). */
  masking?: Masking;
  /** The cache's answer, when the route caches and it had one. */
  hit?: CacheHit;
}

export interface FinishCallInput {
  /** The answer to keep, when the route caches and the answer may be cached. */
  store?: CacheStoreInput;
  record: RecordInteractionInput;
}

export function createCallStepActivities(deps: CallStepDeps) {
  return {
    async prepareCall(input: LlmCallInput): Promise<PreparedCall> {
      const plan = await deps.planCall(input);
      // Masked here, not in the workflow: the detectors would be evaluated again in the workflow sandbox for every call.
      const masking = maskingOf(input.request, input.callId, plan.pii);
      const query = isCacheable(plan, input.request) ? cacheQueryOf(input.callId, plan, applyMasking(input.request, masking)) : undefined;
      const hit = query ? await deps.lookupCachedAnswer(query) : null;
      return { plan, ...(masking ? { masking } : {}), ...(hit ? { hit } : {}) };
    },

    async finishCall({ store, record }: FinishCallInput): Promise<void> {
      // Neither fails the call: both log their own errors.
      await Promise.all([store ? deps.storeCachedAnswer(store) : undefined, deps.recordInteraction(record)]);
    },
  };
}
