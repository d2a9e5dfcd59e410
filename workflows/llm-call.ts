import {
  ActivityFailure,
  ApplicationFailure,
  log,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createAttemptActivities } from '../activities/attempts';
import type { CachedAnswer, createCacheActivities } from '../activities/cache';
import type { createInteractionActivities } from '../activities/interactions';
import type { createPlanActivities } from '../activities/plan';
import { countAttempt, initialRetryState, placeWait, planNextAttempt } from '../lib/routing/retry-plan';
import type { AttemptFailureDetails, AttemptSuccess, LlmCallInput } from '../schemas/call';
import type { AttemptRecord, LlmResult, Message } from '../schemas/llm';
import { parseSecondLookVerdict, secondLookMessages } from '../lib/validation/second-look';
import { maskRequest, restoreResult } from './call-privacy';
import { failureTypes, searchAttributes } from './definitions';

type AttemptActivities = ReturnType<typeof createAttemptActivities>;
type PlanActivities = ReturnType<typeof createPlanActivities>;

const { planCall } = proxyLocalActivities<PlanActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [failureTypes.invalidRequest] },
});
// Cache look-ups and stores are one KV round trip: local activities, no task-queue hop.
const { lookupCachedAnswer, storeCachedAnswer } = proxyLocalActivities<ReturnType<typeof createCacheActivities>>({
  startToCloseTimeout: '3 seconds',
  retry: { maximumAttempts: 2 },
});
// One JetStream publish: a local activity, so recording costs no extra task-queue round trip.
const { recordInteraction, recordCallFailure } = proxyLocalActivities<ReturnType<typeof createInteractionActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 5 },
});

/** An answer the optional second look rejected: handled like a failed validation (repair, then fallback). */
class SecondLookRejection extends Error {
  override readonly name = 'SecondLookRejection';
  constructor(readonly details: AttemptFailureDetails) {
    super(details.message);
  }
}

/** Margin over the SDK's own timeout, so the SDK's (classified) timeout fires first. */
const ACTIVITY_TIMEOUT_MARGIN_MS = 5_000;

/**
 * The attempt activity for this attempt. The call's first attempt runs as a
 * LOCAL activity: inside the workflow task the eager start handed to the
 * process that received the request, so a call that succeeds at once
 * completes in that one task (no task-queue hop, no activity-task events).
 * If that process dies, the workflow task times out and another worker runs
 * the attempt again (docs/benchmarks.md, "One workflow task"). Every later
 * attempt — after a failure, a fallback, a repair — is an ordinary activity
 * with a heartbeat, so a lost attempt shows in history and moves on in
 * seconds.
 */
function attemptActivity(first: boolean, startToCloseMs: number, heartbeatMs: number) {
  if (first) {
    return proxyLocalActivities<AttemptActivities>({ startToCloseTimeout: startToCloseMs, retry: { maximumAttempts: 1 } }).attemptCall;
  }
  return proxyActivities<AttemptActivities>({
    startToCloseTimeout: startToCloseMs,
    heartbeatTimeout: heartbeatMs,
    // Retries live in this workflow, which moves between upstreams and vendors.
    retry: { maximumAttempts: 1 },
  }).attemptCall;
}

function upsert(values: Partial<Record<keyof typeof searchAttributes, string | undefined>>): void {
  const updates = Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ({ key: searchAttributes[key as keyof typeof searchAttributes], value: value as string }));
  if (updates.length) upsertSearchAttributes(updates);
}

/** The attempt's failure details, or a retryable "worker lost" when the activity timed out (its worker died). */
function failureOf(error: unknown, upstreamHint: string | undefined): AttemptFailureDetails {
  // An ordinary activity's failure arrives wrapped in an ActivityFailure; a local activity's as the ApplicationFailure itself.
  const thrown = error instanceof ActivityFailure ? error.cause : error;
  if (thrown instanceof ApplicationFailure && thrown.type === failureTypes.attemptFailed) {
    const details = thrown.details?.[0] as AttemptFailureDetails | undefined;
    if (details) return details;
  }
  const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
  return {
    outcome: 'retryable',
    errorType: /timeout/i.test(message) ? 'activity_timeout' : 'activity_failed',
    message,
    ...(upstreamHint ? { upstream: upstreamHint } : {}),
    promptVariant: 'unknown',
    latencyMs: 0,
    startedAt: Date.now(),
  };
}

/**
 * One LLM call: plan the route, then attempt — each attempt an activity that
 * picks an upstream and emits a CallEvent — with backoff and full jitter,
 * another upstream of the same vendor, then the next vendor in the route,
 * until success, a caller's-fault error, or the deadline.
 */
export async function llmCall(input: LlmCallInput): Promise<LlmResult> {
  const { callId } = input;
  const { workflowId } = workflowInfo();
  const startedAt = Date.now();
  // The gateway and the typed client set these in the start request; a child call (agent chains) gets them here.
  if (!workflowInfo().typedSearchAttributes.get(searchAttributes.route)) {
    upsert({ tenant: input.request.tenant, user: input.request.user, feature: input.request.feature, route: input.request.route, outcome: 'running' });
  }

  const plan = await planCall(input);
  if (plan.avoidedProvider) log.info('failover switch honoured', { avoided: plan.avoidedProvider });
  const deadlineAt = startedAt + (input.request.deadlineMs ?? plan.callTimeoutMs);
  // Vendors, the cache and (by default) the interaction log only ever see the masked request.
  const masked = maskRequest(input.request, callId, plan.pii);
  const request = masked.request;
  const primary = plan.entries[0]!;
  const cacheable = (plan.cache.exact.enabled || plan.cache.semantic.enabled) && request.cache !== false;
  const cacheQuery = {
    callId,
    request,
    model: primary.model,
    promptVariant: primary.prompt ?? 'none',
    ...(masked.nonce ? { piiNonce: masked.nonce } : {}),
    ...(masked.entities.length ? { piiEntities: masked.entities } : {}),
    ...(plan.cache.semantic.enabled ? { semantic: plan.cache.semantic } : {}),
  };

  const finish = async (result: LlmResult, prompt: string | undefined): Promise<LlmResult> => {
    upsert({ provider: result.provider, upstream: result.upstream, outcome: result.cached ? 'cache_hit' : result.attempts.length > 1 ? 'recovered' : 'success' });
    const restored = restoreResult(result, masked.entities);
    const logRaw = plan.pii.logMode === 'raw';
    await recordInteraction({ request: logRaw ? input.request : request, result: logRaw ? restored : result, ...(prompt ? { prompt } : {}) });
    return restored;
  };

  if (cacheable) {
    const hit: (CachedAnswer & { semantic?: boolean }) | null = await lookupCachedAnswer(cacheQuery);
    if (hit) {
      return finish(
        {
          callId,
          workflowId,
          text: hit.text,
          ...(hit.toolCalls ? { toolCalls: hit.toolCalls } : {}),
          ...(request.output ? { output: hit.output } : {}),
          finishReason: hit.finishReason,
          usage: hit.usage,
          provider: hit.provider,
          model: hit.model,
          upstream: hit.upstream,
          promptVariant: hit.promptVariant,
          costUsd: 0,
          latencyMs: Date.now() - startedAt,
          attempts: [],
          cached: true,
          validation: 'none',
        },
        primary.prompt,
      );
    }
  }

  const attempts: AttemptRecord[] = [];
  let state = initialRetryState();
  let step: { entryIndex: number; exclude: string[]; delayMs: number } = { entryIndex: 0, exclude: [], delayMs: 0 };
  /** Repair turns for the current entry: the rejected answer and the instruction to fix it. */
  let repairTurns: Message[] = [];
  let repairsOnEntry = 0;
  let repaired = false;

  for (;;) {
    const wait = placeWait(step.delayMs);
    if (wait.timerMs > 0) await sleep(wait.timerMs);
    const entry = plan.entries[step.entryIndex]!;
    state = countAttempt(state);
    const remainingMs = deadlineAt - Date.now();
    const attemptTimeoutMs = Math.max(1, Math.min(plan.attemptTimeoutMs, remainingMs));
    // A chain's child call keeps the ordinary activity even first: cancelling a chain must stop its running calls at once,
    // and a local activity hears of a cancellation only at its workflow task's next heartbeat (up to 8 s).
    const local = attempts.length === 0 && workflowInfo().parent === undefined;
    const attemptCall = attemptActivity(local, wait.inAttemptMs + attemptTimeoutMs + ACTIVITY_TIMEOUT_MARGIN_MS, plan.heartbeatMs);
    try {
      const success: AttemptSuccess = await attemptCall({
        callId,
        workflowId,
        attempt: state.totalAttempts,
        request: repairTurns.length ? { ...request, messages: [...request.messages, ...repairTurns] } : request,
        entry,
        exclude: step.exclude,
        attemptTimeoutMs,
        ...(wait.inAttemptMs > 0 ? { waitMs: wait.inAttemptMs } : {}),
        ...(state.panic ? { allowPanic: true } : {}),
        // The activity restores streamed deltas and checks answers on restored text.
        ...(masked.entities.length && (request.stream || plan.validation || request.output) ? { piiEntities: masked.entities } : {}),
        ...(plan.validation ? { validation: plan.validation } : {}),
      });
      const answerAttempt = state.totalAttempts;
      if (plan.validation?.secondLook && !success.toolCalls?.length) {
        // "Are you sure?": the same vendor reviews the answer; a REJECT is repaired like any invalid answer.
        state = countAttempt(state);
        const review = await attemptCall({
          callId,
          workflowId,
          attempt: state.totalAttempts,
          request: { ...request, messages: secondLookMessages([...request.messages, ...repairTurns], success.text), output: undefined, tools: undefined, toolChoice: undefined, stream: false },
          entry,
          exclude: step.exclude,
          attemptTimeoutMs,
        });
        const verdict = parseSecondLookVerdict(review.text);
        if (!verdict.approved) {
          throw new SecondLookRejection({
            outcome: 'invalid_output',
            errorType: 'second_look_rejected',
            message: `the second look rejected the answer: ${verdict.reason}`,
            upstream: success.upstream,
            promptVariant: success.promptVariant,
            latencyMs: success.latencyMs,
            startedAt: success.startedAt,
            repair: { answer: success.text, instruction: `A reviewer rejected your previous answer: ${verdict.reason?.replace(/[.\s]*$/, '')}. Reply with a corrected answer only.` },
          });
        }
      }
      attempts.push({
        attempt: answerAttempt,
        provider: entry.provider,
        upstream: success.upstream,
        model: entry.model,
        promptVariant: success.promptVariant,
        outcome: 'success',
        latencyMs: success.latencyMs,
        ...(success.ttftMs !== undefined ? { ttftMs: success.ttftMs } : {}),
        startedAt: success.startedAt,
      });
      const result: LlmResult = {
        callId,
        workflowId,
        text: success.text,
        ...(success.toolCalls ? { toolCalls: success.toolCalls } : {}),
        ...(request.output ? { output: success.output } : {}),
        finishReason: success.finishReason,
        usage: success.usage,
        provider: entry.provider,
        model: success.model,
        upstream: success.upstream,
        promptVariant: success.promptVariant,
        ...(success.costUsd !== undefined ? { costUsd: success.costUsd } : {}),
        // Workflow time stands still inside one workflow task, and a local attempt runs inside it: the attempt's own clock says when it ended.
        latencyMs: Math.max(Date.now(), success.startedAt + success.latencyMs) - startedAt,
        ...(success.ttftMs !== undefined ? { ttftMs: Math.max(0, success.startedAt - startedAt) + success.ttftMs } : {}),
        attempts,
        cached: false,
        validation: repaired ? 'repaired' : plan.validation || request.output ? 'passed' : 'none',
      };
      if (cacheable && !success.toolCalls?.length) {
        const { callId: _c, workflowId: _w, latencyMs: _l, attempts: _a, cached: _h, validation: _v, costUsd: _cost, ...answer } = result;
        await storeCachedAnswer({ ...cacheQuery, answer: { ...answer, ...(masked.nonce ? { piiNonce: masked.nonce } : {}) }, ttlMs: plan.cache.exact.ttlMs });
      }
      return finish(result, entry.prompt);
    } catch (error) {
      const failure = error instanceof SecondLookRejection ? error.details : failureOf(error, undefined);
      attempts.push({
        attempt: state.totalAttempts,
        provider: entry.provider,
        ...(failure.upstream ? { upstream: failure.upstream } : {}),
        model: entry.model,
        promptVariant: failure.promptVariant,
        outcome: failure.outcome,
        ...(failure.status !== undefined ? { status: failure.status } : {}),
        errorType: failure.errorType,
        message: failure.message,
        latencyMs: failure.latencyMs,
        startedAt: failure.startedAt,
      });
      // A rejected answer is repaired on the same vendor first: its answer and what to fix go back as the next turns.
      if (failure.repair && repairsOnEntry < (plan.validation?.repairAttempts ?? 2) && state.totalAttempts < plan.retry.maxAttempts) {
        repairsOnEntry++;
        repaired = true;
        repairTurns = [
          { role: 'assistant', content: failure.repair.answer },
          { role: 'user', content: failure.repair.instruction },
        ];
        log.info('repairing a rejected answer', { errorType: failure.errorType, repair: repairsOnEntry });
        step = { entryIndex: step.entryIndex, exclude: step.exclude, delayMs: 0 };
        continue;
      }
      const decision = planNextAttempt({
        plan,
        state,
        failure: failure.repair ? { ...failure, errorType: 'repairs_exhausted' } : failure,
        now: Date.now(),
        deadlineAt,
        random01: Math.random(),
      });
      state = decision.state;
      if (decision.step.kind === 'give_up') {
        upsert({ provider: entry.provider, ...(failure.upstream ? { upstream: failure.upstream } : {}), outcome: 'failed' });
        await recordCallFailure({
          callId,
          request: plan.pii.logMode === 'raw' ? input.request : request,
          provider: entry.provider,
          model: entry.model,
          ...(failure.upstream ? { upstream: failure.upstream } : {}),
          promptVariant: failure.promptVariant,
          ...(entry.prompt ? { prompt: entry.prompt } : {}),
          attempts: attempts.length,
          latencyMs: Date.now() - startedAt,
          error: decision.step.reason,
        });
        throw ApplicationFailure.create({
          type: decision.step.failureType,
          message: decision.step.reason,
          nonRetryable: true,
          details: [{ attempts }],
        });
      }
      if (decision.step.entryIndex !== step.entryIndex) {
        // A new entry starts clean: its answer was not repaired unless it is repaired itself.
        repairTurns = [];
        repairsOnEntry = 0;
        repaired = false;
      }
      log.info('next attempt', { reason: decision.step.reason, delayMs: decision.step.delayMs });
      step = decision.step;
    }
  }
}
