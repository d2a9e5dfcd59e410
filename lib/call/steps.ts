/**
 * The per-call decisions of llmCall, pure and deterministic (they run in
 * workflow code; time and randomness come in as arguments): how the next
 * attempt runs, what a failed attempt leads to — a repair on the same entry,
 * the retry plan's next attempt (lib/routing/retry-plan.ts), or giving up —
 * and the attempt log. The workflow is a loop over "decide, then do".
 */
import type { AttemptFailureDetails, AttemptInput, AttemptSuccess, PlannedEntry } from '../../schemas/call';
import type { AttemptRecord, LlmResult, Message } from '../../schemas/llm';
import { countAttempt, initialRetryState, placeWait, planNextAttempt, type RetryState } from '../routing/retry-plan';
import { parseSecondLookVerdict, secondLookMessages } from '../validation/second-look';
import type { OpenCall } from './open';
import { answeredResult } from './result';

export interface CallState {
  retry: RetryState;
  /** Where the next attempt goes, and how long it waits first. */
  next: { entryIndex: number; exclude: string[]; delayMs: number };
  /** Every attempt so far, answered or failed, in order. */
  attempts: AttemptRecord[];
  /** The current entry's repair: the rejected answer and what to fix, sent as the next turns. */
  repairTurns: Message[];
  repairsOnEntry: number;
  /** The current entry's answer came after a repair (a new entry starts clean). */
  repaired: boolean;
  /** A stream broke after its first token: what its caller already has, which the next attempts continue. */
  resume?: { text: string };
}

export function startCallState(): CallState {
  return { retry: initialRetryState(), next: { entryIndex: 0, exclude: [], delayMs: 0 }, attempts: [], repairTurns: [], repairsOnEntry: 0, repaired: false };
}

/** Margin over the SDK's own timeout, so the SDK's (classified) timeout fires first. */
export const ACTIVITY_TIMEOUT_MARGIN_MS = 5_000;

/** Repairs per route entry when the route's validation names none. */
const DEFAULT_REPAIR_ATTEMPTS = 2;

export interface AttemptStep {
  entry: PlannedEntry;
  input: AttemptInput;
  /**
   * A local activity inside the current workflow task (the call's first
   * attempt: a call that succeeds at once completes in one task), or an
   * ordinary activity with a heartbeat (every later attempt).
   */
  local: boolean;
  /** The activity's start-to-close timeout: the in-attempt wait, the attempt's own timeout and a margin. */
  activityTimeoutMs: number;
}

/** A durable timer before the next attempt (0: none; a short wait goes inside the attempt instead, see `placeWait`). */
export function timerBeforeNextAttempt(state: CallState): number {
  return placeWait(state.next.delayMs).timerMs;
}

/**
 * The next attempt, once any timer has fired: counted, bounded by the
 * deadline, with the current entry's repair turns. A chain's child call runs
 * even its first attempt as an ordinary activity: cancelling a chain must
 * stop its calls at once, and a local activity hears of a cancellation only
 * at its workflow task's next heartbeat.
 */
export function beginAttempt(
  call: OpenCall,
  state: CallState,
  o: { now: number; child: boolean; readBack?: boolean },
): { state: CallState; step: AttemptStep } {
  const { plan, request, masked } = call;
  const retry = countAttempt(state.retry);
  const entry = plan.entries[state.next.entryIndex]!;
  const wait = placeWait(state.next.delayMs);
  const attemptTimeoutMs = Math.max(1, Math.min(plan.attemptTimeoutMs, call.deadlineAt - o.now));
  const input: AttemptInput = {
    callId: call.callId,
    workflowId: call.workflowId,
    attempt: retry.totalAttempts,
    request: state.repairTurns.length ? { ...request, messages: [...request.messages, ...state.repairTurns] } : request,
    entry,
    exclude: state.next.exclude,
    attemptTimeoutMs,
    ...(wait.inAttemptMs > 0 ? { waitMs: wait.inAttemptMs } : {}),
    ...(retry.panic ? { allowPanic: true } : {}),
    ...(state.resume ? { resume: state.resume } : {}),
    // The answer of an attempt lost with its process may be in the attempt journal: read it before paying again.
    ...(o.readBack || lastAttemptLost(state) ? { readBack: true } : {}),
    // The activity restores streamed deltas and checks answers on restored text.
    ...(masked.entities.length && (request.stream || plan.validation || request.output) ? { piiEntities: masked.entities } : {}),
    ...(plan.validation ? { validation: plan.validation } : {}),
  };
  const local = state.attempts.length === 0 && !o.child;
  return { state: { ...state, retry }, step: { entry, input, local, activityTimeoutMs: wait.inAttemptMs + attemptTimeoutMs + ACTIVITY_TIMEOUT_MARGIN_MS } };
}

/** The previous attempt never reported: its process died (or it timed out) holding it. */
function lastAttemptLost(state: CallState): boolean {
  const last = state.attempts.at(-1);
  return last?.errorType === 'activity_timeout' || last?.errorType === 'activity_failed';
}

/**
 * The optional second look ("are you sure?"): one more attempt on the same
 * entry in which the vendor reviews `answer`. Undefined when the route asks
 * for none, or the answer is a tool call.
 */
export function beginReview(
  call: OpenCall,
  state: CallState,
  step: AttemptStep,
  answer: AttemptSuccess,
): { state: CallState; input: AttemptInput } | undefined {
  if (!call.plan.validation?.secondLook || answer.toolCalls?.length) return undefined;
  const retry = countAttempt(state.retry);
  const messages = secondLookMessages([...call.request.messages, ...state.repairTurns], answer.text);
  return {
    state: { ...state, retry },
    input: {
      callId: call.callId,
      workflowId: call.workflowId,
      attempt: retry.totalAttempts,
      request: { ...call.request, messages, output: undefined, tools: undefined, toolChoice: undefined, stream: false },
      entry: step.entry,
      exclude: step.input.exclude,
      attemptTimeoutMs: step.input.attemptTimeoutMs,
    },
  };
}

/** The reviewer's reply read: undefined when it approves, else the rejection as a failed answer to repair. */
export function reviewRejection(answer: AttemptSuccess, reply: string): AttemptFailureDetails | undefined {
  const verdict = parseSecondLookVerdict(reply);
  if (verdict.approved) return undefined;
  return {
    outcome: 'invalid_output',
    errorType: 'second_look_rejected',
    message: `the second look rejected the answer: ${verdict.reason}`,
    upstream: answer.upstream,
    promptVariant: answer.promptVariant,
    latencyMs: answer.latencyMs,
    startedAt: answer.startedAt,
    repair: {
      answer: answer.text,
      instruction: `A reviewer rejected your previous answer: ${verdict.reason?.replace(/[.\s]*$/, '')}. Reply with a corrected answer only.`,
    },
  };
}

/** The caller's result of an attempt that answered (and passed its checks). */
export function afterAnswer(call: OpenCall, state: CallState, step: AttemptStep, success: AttemptSuccess, now: number): LlmResult {
  const record: AttemptRecord = {
    attempt: step.input.attempt,
    provider: step.entry.provider,
    upstream: success.upstream,
    model: step.entry.model,
    promptVariant: success.promptVariant,
    outcome: 'success',
    latencyMs: success.latencyMs,
    ...(success.ttftMs !== undefined ? { ttftMs: success.ttftMs } : {}),
    ...(step.input.resume ? { resumedFromChars: step.input.resume.text.length } : {}),
    startedAt: success.startedAt,
  };
  const validation = state.repaired ? 'repaired' : call.plan.validation || call.request.output ? 'passed' : 'none';
  return answeredResult(call, step.entry, success, { now, attempts: [...state.attempts, record], validation });
}

export type AfterFailure =
  { kind: 'repair'; reason: string } | { kind: 'attempt'; reason: string; delayMs: number } | { kind: 'give_up'; failureType: string; reason: string };

/**
 * What a failed attempt leads to. A rejected answer is repaired on the same
 * entry first (its answer and what to fix go back as the next turns), within
 * the route's repair budget and the call's attempt budget; everything else —
 * and a repair budget spent (`repairs_exhausted`) — goes to the retry plan. A
 * move to another entry starts its repair state afresh.
 */
export function afterFailure(
  call: OpenCall,
  state: CallState,
  step: AttemptStep,
  failure: AttemptFailureDetails,
  o: { now: number; random01: number },
): { state: CallState; next: AfterFailure } {
  const { plan } = call;
  const attempts = [...state.attempts, failureRecord(state.retry.totalAttempts, step.entry, failure)];
  // A stream that broke after its first token goes on where its caller is (unless the route says `midStream: error`).
  if (failure.streamed && call.request.stream && plan.midStream !== 'error') state = { ...state, resume: { text: failure.streamed } };
  const repairBudget = plan.validation?.repairAttempts ?? DEFAULT_REPAIR_ATTEMPTS;
  if (failure.repair && state.repairsOnEntry < repairBudget && state.retry.totalAttempts < plan.retry.maxAttempts) {
    const repairTurns: Message[] = [
      { role: 'assistant', content: failure.repair.answer },
      { role: 'user', content: failure.repair.instruction },
    ];
    return {
      state: { ...state, attempts, repairTurns, repairsOnEntry: state.repairsOnEntry + 1, repaired: true, next: { ...state.next, delayMs: 0 } },
      next: { kind: 'repair', reason: `repairing a rejected answer (${failure.errorType}), repair ${state.repairsOnEntry + 1}` },
    };
  }
  const decision = planNextAttempt({
    plan,
    state: state.retry,
    failure: failure.repair ? { ...failure, errorType: 'repairs_exhausted' } : failure,
    now: o.now,
    deadlineAt: call.deadlineAt,
    random01: o.random01,
  });
  const decided = decision.step;
  if (decided.kind === 'give_up') {
    return { state: { ...state, attempts, retry: decision.state }, next: { kind: 'give_up', failureType: decided.failureType, reason: decided.reason } };
  }
  const freshEntry = decided.entryIndex !== state.next.entryIndex ? { repairTurns: [], repairsOnEntry: 0, repaired: false } : {};
  return {
    state: {
      ...state,
      ...freshEntry,
      attempts,
      retry: decision.state,
      next: { entryIndex: decided.entryIndex, exclude: decided.exclude, delayMs: decided.delayMs },
    },
    next: { kind: 'attempt', reason: decided.reason, delayMs: decided.delayMs },
  };
}

function failureRecord(attempt: number, entry: PlannedEntry, failure: AttemptFailureDetails): AttemptRecord {
  return {
    attempt,
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
  };
}
