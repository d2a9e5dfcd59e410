import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createAttemptActivities } from '../activities/attempts';
import type { createCallStepActivities, FirstAnswer } from '../activities/call-steps';
import type { createInteractionActivities } from '../activities/interactions';
import { openCall, type OpenCall } from '../lib/call/open';
import { finishOf } from '../lib/call/finish';
import { answeredOutcome, cachedResult } from '../lib/call/result';
import {
  afterAnswer,
  afterFailure,
  beginAttempt,
  beginReview,
  reviewRejection,
  startCallState,
  timerBeforeNextAttempt,
  type AttemptStep,
  type CallState,
} from '../lib/call/steps';
import type { AttemptFailureDetails, AttemptInput, AttemptSuccess, LlmCallInput } from '../schemas/call';
import type { LlmResult } from '../schemas/llm';
import { failureTypes } from '../contracts/failures';
import { CALL_SHAPE, callStartSearchAttributes, searchAttributes } from '../contracts/names';
import { planStep, recordStep } from './step-options';

type AttemptActivities = ReturnType<typeof createAttemptActivities>;

type CallStepActivities = ReturnType<typeof createCallStepActivities>;

/**
 * A top-level call's happy path in one local activity (plan, cache, first
 * attempt, finish). One try: retries live in this workflow. Its timeout is a
 * backstop only — the attempt inside keeps its own, and a dead process is
 * noticed by the workflow-task timeout.
 */
const { answerCall } = proxyLocalActivities<CallStepActivities>({ startToCloseTimeout: '10 minutes', retry: { maximumAttempts: 1 } });
// The same steps apart (a chain's call, or after answerCall failed before its attempt): plan + cache look-up, cache store + record.
const { prepareCall } = proxyLocalActivities<CallStepActivities>(planStep);
const { finishCall } = proxyLocalActivities<CallStepActivities>(recordStep);
const { recordCallFailure } = proxyLocalActivities<ReturnType<typeof createInteractionActivities>>(recordStep);

/**
 * The attempt activity of a step. The call's first attempt is LOCAL: it runs
 * inside the workflow task the eager start handed to the process that
 * received the request, so a call that succeeds at once completes in that one
 * task. If that process dies, the task times out and another worker runs it
 * again (docs/benchmarks.md, "One workflow task"). Every later attempt is an
 * ordinary activity with a heartbeat: a lost attempt shows in history and the
 * call moves on within the heartbeat timeout. Retries live in this workflow,
 * which moves between upstreams and vendors: the activity's own is one try.
 */
function attemptActivity(step: AttemptStep, heartbeatMs: number): (input: AttemptInput) => Promise<AttemptSuccess> {
  if (step.local) return proxyLocalActivities<AttemptActivities>({ startToCloseTimeout: step.activityTimeoutMs, retry: { maximumAttempts: 1 } }).attemptCall;
  return proxyActivities<AttemptActivities>({ startToCloseTimeout: step.activityTimeoutMs, heartbeatTimeout: heartbeatMs, retry: { maximumAttempts: 1 } })
    .attemptCall;
}

/** The attempt's failure details, or a retryable "activity failed / timed out" when it never reported (its worker died). */
function failureOf(error: unknown): AttemptFailureDetails {
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
    promptVariant: 'unknown',
    latencyMs: 0,
    startedAt: Date.now(),
  };
}

type Tried = { state: CallState; success: AttemptSuccess } | { state: CallState; failure: AttemptFailureDetails };

/** One attempt, and its second look when the route asks for one: the answer, or why it failed. */
async function tryAnswer(call: OpenCall, begun: { state: CallState; step: AttemptStep }): Promise<Tried> {
  try {
    return await reviewed(call, begun, await attemptActivity(begun.step, call.plan.heartbeatMs)(begun.step.input));
  } catch (error) {
    // The caller went away (or the deadline passed): the call ends cancelled, not failed over.
    if (isCancellation(error)) throw error;
    return { state: begun.state, failure: failureOf(error) };
  }
}

/** The second look at an answer, when the route asks for one (on the same kind of activity as the attempt). */
async function reviewed(call: OpenCall, begun: { state: CallState; step: AttemptStep }, success: AttemptSuccess): Promise<Tried> {
  const review = beginReview(call, begun.state, begun.step, success);
  if (!review) return { state: begun.state, success };
  const rejection = reviewRejection(success, (await attemptActivity(begun.step, call.plan.heartbeatMs)(review.input)).text);
  return rejection ? { state: review.state, failure: rejection } : { state: review.state, success };
}

/** What answerCall's first attempt left to decide, as the loop's first step (the same pure first step it took). */
async function carriedOver(
  call: OpenCall,
  first: Exclude<FirstAnswer, { kind: 'answered' }>,
  o: { startedAt: number; rerun: boolean },
): Promise<{ begun: { state: CallState; step: AttemptStep }; tried: Tried }> {
  const begun = beginAttempt(call, startCallState(), { now: o.startedAt, child: false, ...(o.rerun ? { readBack: true } : {}) });
  if (first.kind === 'failed') return { begun, tried: { state: begun.state, failure: first.failure } };
  try {
    return { begun, tried: await reviewed(call, begun, first.success) };
  } catch (error) {
    if (isCancellation(error)) throw error;
    return { begun, tried: { state: begun.state, failure: failureOf(error) } };
  }
}

/** Sets search attributes in the workflow task's completion (no round trip of its own); `undefined` values are skipped. */
function upsert(values: Partial<Record<keyof typeof searchAttributes, string | undefined>>): void {
  const updates = Object.entries(values)
    .filter((entry): entry is [keyof typeof searchAttributes, string] => entry[1] !== undefined)
    .map(([key, value]) => ({ key: searchAttributes[key], value }));
  if (updates.length) upsertSearchAttributes(updates);
}

/** The answered call's last step: search attributes, then cache store and interaction record in one local activity (unless done). */
async function finish(call: OpenCall, result: LlmResult, prompt: string | undefined, o: { done?: boolean } = {}): Promise<LlmResult> {
  upsert({ provider: result.provider, upstream: result.upstream, outcome: answeredOutcome(result) });
  const { restored, finish: kept } = finishOf(call, result, prompt);
  if (!o.done) await finishCall(kept);
  return restored;
}

/** The call gave up: recorded like any call, then failed with a stable type and the attempt log. */
async function giveUp(
  call: OpenCall,
  state: CallState,
  step: AttemptStep,
  failure: AttemptFailureDetails,
  given: { failureType: string; reason: string },
): Promise<never> {
  const { entry } = step;
  upsert({ provider: entry.provider, upstream: failure.upstream, outcome: 'failed' });
  await recordCallFailure({
    callId: call.callId,
    request: call.plan.pii.logMode === 'raw' ? call.asked : call.request,
    provider: entry.provider,
    model: entry.model,
    ...(failure.upstream ? { upstream: failure.upstream } : {}),
    promptVariant: failure.promptVariant,
    ...(entry.prompt ? { prompt: entry.prompt } : {}),
    attempts: state.attempts.length,
    latencyMs: Date.now() - call.startedAt,
    error: given.reason,
  });
  throw ApplicationFailure.create({ type: given.failureType, message: given.reason, nonRetryable: true, details: [{ attempts: state.attempts }] });
}

/**
 * One LLM call: prepare (plan the route, mask PII, ask the cache), then attempt — each
 * attempt an activity that picks an upstream and emits a CallEvent — until
 * an answer, a caller's-fault error, or the deadline; lib/call/steps.ts
 * decides every next step (repair, retry, fallback, wait, give up).
 */
export async function llmCall(input: LlmCallInput): Promise<LlmResult> {
  // A call started by a release whose steps differ cannot be continued by this code: it fails at once on replay
  // (the worker fails llmCall on a non-determinism error) instead of retrying its task forever (docs/deploy.md, "Upgrades").
  if (!patched(CALL_SHAPE))
    throw ApplicationFailure.create({
      type: failureTypes.workflowFailed,
      message: `this call was started by a Switchboard release whose call steps differ from ${CALL_SHAPE}; it cannot be continued here`,
      nonRetryable: true,
    });
  const info = workflowInfo();
  const startedAt = Date.now();
  // The gateway and the typed client set these in the start request; a chain's child call gets them here.
  if (!info.typedSearchAttributes.get(searchAttributes.route)) upsertSearchAttributes(callStartSearchAttributes(input.request));

  const child = info.parent !== undefined;
  const at = { workflowId: info.workflowId, startedAt };
  // A first workflow task tried before (its process died, or it timed out) may have paid for the first attempt already.
  const rerun = info.historyLength > 3;

  // A top-level call's happy path is one local activity; a chain's call (or one whose answerCall failed before its attempt) takes the steps apart.
  const first = child
    ? undefined
    : await answerCall({ input, ...at, ...(rerun ? { rerun } : {}) }).catch((error: unknown) => {
        if (isCancellation(error)) throw error;
        log.warn('answerCall failed; preparing the call apart', { error: error instanceof Error ? error.message : String(error) });
        return undefined;
      });
  const prepared = first?.prepared ?? (await prepareCall(input));
  if (prepared.plan.avoidedProvider) log.info('failover switch honoured', { avoided: prepared.plan.avoidedProvider });
  const call = openCall(input, prepared.plan, prepared.masking, at);
  // The first attempt goes to the first entry, as a cached answer is the first entry's.
  if (first?.kind === 'answered') return finish(call, first.result, call.plan.entries[0]!.prompt, { done: first.finished });
  if (!first && prepared.hit) return finish(call, cachedResult(call, prepared.hit, Date.now()), call.plan.entries[0]!.prompt);

  let state = startCallState();
  let carried = first ? await carriedOver(call, first, { startedAt, rerun }) : undefined;
  for (;;) {
    let begun: { state: CallState; step: AttemptStep };
    let tried: Tried;
    if (carried) {
      ({ begun, tried } = carried);
      carried = undefined;
    } else {
      const timerMs = timerBeforeNextAttempt(state);
      if (timerMs > 0) await sleep(timerMs);
      begun = beginAttempt(call, state, { now: Date.now(), child, ...(rerun && state.attempts.length === 0 ? { readBack: true } : {}) });
      tried = await tryAnswer(call, begun);
    }
    state = tried.state;
    if ('success' in tried) return finish(call, afterAnswer(call, state, begun.step, tried.success, Date.now()), begun.step.entry.prompt);

    const { failure } = tried;
    const decided = afterFailure(call, state, begun.step, failure, { now: Date.now(), random01: Math.random() });
    state = decided.state;
    if (decided.next.kind === 'give_up') return giveUp(call, state, begun.step, failure, decided.next);
    log.info('next attempt', { reason: decided.next.reason, ...(decided.next.kind === 'attempt' ? { delayMs: decided.next.delayMs } : {}) });
  }
}
