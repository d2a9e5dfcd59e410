/**
 * The steps of a call that run as local activities. `answerCall` is the
 * happy path of a top-level call in ONE local activity: plan the route, mask
 * PII, ask the cache, make the first attempt, and — when it answers cleanly —
 * store the answer and record the interaction. Each local activity in
 * sequence costs a round of the workflow task (≈ 3 ms here,
 * docs/benchmarks.md), so a call that succeeds at once costs what Temporal's
 * cheapest durable shape costs: one workflow task, one local activity.
 * Whatever the first attempt leaves to decide (a failure, a second look)
 * goes back to the workflow, which decides with the same pure steps.
 *
 * `prepareCall` and `finishCall` are the same steps apart, for chain calls
 * (whose attempts are ordinary activities, so a cancelled chain stops them
 * at once) and for a call whose `answerCall` failed before its attempt.
 */
import { ApplicationFailure } from '@temporalio/common';
import { failureTypes } from '../contracts/failures';
import { finishOf, type FinishCallInput } from '../lib/call/finish';
import { maskingOf } from '../lib/call/masking';
import { cacheQueryOf, isCacheable, openCall } from '../lib/call/open';
import { applyMasking, type Masking } from '../lib/call/privacy';
import { cachedResult } from '../lib/call/result';
import { afterAnswer, beginAttempt, beginReview, startCallState } from '../lib/call/steps';
import type { AttemptFailureDetails, AttemptInput, AttemptSuccess, CallPlan, LlmCallInput } from '../schemas/call';
import type { CacheHit, CacheLookupInput, CacheStoreInput } from '../schemas/cache';
import type { LlmResult } from '../schemas/llm';
import type { AnswerHandoff } from '../lib/call/answer-handoff';
import type { AttemptOptions } from './attempts';
import type { RecordInteractionInput } from './interactions';

export type { FinishCallInput };

export interface CallStepDeps {
  planCall: (input: LlmCallInput) => Promise<CallPlan>;
  lookupCachedAnswer: (input: CacheLookupInput) => Promise<CacheHit | null>;
  storeCachedAnswer: (input: CacheStoreInput) => Promise<void>;
  recordInteraction: (input: RecordInteractionInput) => Promise<void>;
  /** One vendor attempt (activities/attempts.ts): its answer, or an ApplicationFailure of type SbAttemptFailed. */
  attemptCall: (input: AttemptInput, options?: AttemptOptions) => Promise<AttemptSuccess>;
  /** A gateway's in-process hand-off: answerCall gives it the final answer when a request here waits for it. Default none. */
  handoff?: AnswerHandoff;
}

/** What answerCall may hand over: the caller's answer, once the journal's write of it (`kept`) succeeded. */
interface Handover {
  kept: Promise<boolean>[];
  answer?: LlmResult;
}

export interface PreparedCall {
  plan: CallPlan;
  /** What PII masking changed in the request (absent when PII handling is off). */
  masking?: Masking;
  /** The cache's answer, when the route caches and it had one. */
  hit?: CacheHit;
}

export interface AnswerCallInput {
  input: LlmCallInput;
  workflowId: string;
  /** The workflow's start time: the call's deadline and the first attempt's budget count from it, as in the workflow. */
  startedAt: number;
  /** This is not the first try of the call's first workflow task: the attempt may have been paid already (read the journal). */
  rerun?: boolean;
}

/** What the first local activity of a call did. */
export type FirstAnswer =
  /** Answered (from the vendor or the cache); `finished` false when storing or recording failed and is left to the workflow. */
  | { kind: 'answered'; prepared: PreparedCall; result: LlmResult; finished: boolean }
  /** Answered, and the route asks for a second look: the workflow runs it. */
  | { kind: 'to_review'; prepared: PreparedCall; success: AttemptSuccess }
  /** The first attempt failed: the workflow decides what comes next. */
  | { kind: 'failed'; prepared: PreparedCall; failure: AttemptFailureDetails };

/** The classification an attempt failed with; undefined for anything else (a cancellation, a bug), which is thrown on. */
function attemptFailureOf(error: unknown): AttemptFailureDetails | undefined {
  if (!(error instanceof ApplicationFailure) || error.type !== failureTypes.attemptFailed) return undefined;
  return error.details?.[0] as AttemptFailureDetails | undefined;
}

/** The answer to hand over: only once a re-run of this task would read the same answer back (the journal stored it). */
async function handedOver({ answer, kept }: Handover): Promise<LlmResult | undefined> {
  if (!answer || kept.length === 0) return undefined;
  return (await Promise.all(kept)).every(Boolean) ? answer : undefined;
}

export function createCallStepActivities(deps: CallStepDeps) {
  async function prepareCall(input: LlmCallInput): Promise<PreparedCall> {
    const plan = await deps.planCall(input);
    // Masked here, not in the workflow: the workflow bundle carries no PII detectors and a replay does not run them again.
    const masking = maskingOf(input.request, input.callId, plan.pii);
    const query = isCacheable(plan, input.request) ? cacheQueryOf(input.callId, plan, applyMasking(input.request, masking)) : undefined;
    const hit = query ? await deps.lookupCachedAnswer(query) : null;
    return { plan, ...(masking ? { masking } : {}), ...(hit ? { hit } : {}) };
  }

  async function finishCall({ store, record }: FinishCallInput): Promise<void> {
    // Neither fails the call: both log their own errors.
    await Promise.all([store ? deps.storeCachedAnswer(store) : undefined, deps.recordInteraction(record)]);
  }

  /** Finishes now; false when it failed, so the workflow finishes with retries (the answer is never attempted again). */
  const finished = (finish: FinishCallInput): Promise<boolean> =>
    finishCall(finish).then(
      () => true,
      () => false,
    );

  /** `answerCall`'s steps; the attempt's CallEvent publishes go to `events`, and a vendor's final answer to `handover`. */
  async function answerFirst(
    { input, workflowId, startedAt, rerun }: AnswerCallInput,
    events: Promise<void>[],
    handover: Handover | undefined,
  ): Promise<FirstAnswer> {
    const prepared = await prepareCall(input);
    const call = openCall(input, prepared.plan, prepared.masking, { workflowId, startedAt });
    if (prepared.hit) {
      const result = cachedResult(call, prepared.hit, Date.now());
      return { kind: 'answered', prepared, result, finished: await finished(finishOf(call, result, call.plan.entries[0]!.prompt).finish) };
    }
    // The same first step the workflow derives (same call, same state, `now` = the start): it can pick up from here.
    const begun = beginAttempt(call, startCallState(), { now: startedAt, child: false, ...(rerun ? { readBack: true } : {}) });
    let success: AttemptSuccess;
    try {
      success = await deps.attemptCall(begun.step.input, { deferEvents: events, ...(handover ? { onKept: (stored) => handover.kept.push(stored) } : {}) });
    } catch (error) {
      const failure = attemptFailureOf(error);
      if (!failure) throw error;
      return { kind: 'failed', prepared, failure };
    }
    if (beginReview(call, begun.state, begun.step, success)) return { kind: 'to_review', prepared, success };
    const result = afterAnswer(call, begun.state, begun.step, success, Date.now());
    const { restored, finish } = finishOf(call, result, begun.step.entry.prompt);
    const done = await finished(finish);
    // What the workflow returns for an answered first attempt (llmCall's `finish`): the same pure step, here.
    if (handover && done) handover.answer = restored;
    return { kind: 'answered', prepared, result, finished: done };
  }

  return {
    prepareCall,
    finishCall,

    async answerCall(first: AnswerCallInput): Promise<FirstAnswer> {
      // The attempt's CallEvent is acknowledged while the answer is stored and recorded, not before: one NATS round trip
      // less on the call's path, and still every ack before this activity (and so the call) completes.
      const events: Promise<void>[] = [];
      const handoff = deps.handoff?.begin(first.workflowId) ? deps.handoff : undefined;
      const handover: Handover = { kept: [] };
      try {
        return await answerFirst(first, events, handoff ? handover : undefined);
      } finally {
        await Promise.all(events);
        handoff?.release(first.workflowId, await handedOver(handover));
      }
    },
  };
}
