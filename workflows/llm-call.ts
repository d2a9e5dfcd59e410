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
import type { createPlanActivities } from '../activities/plan';
import { countAttempt, initialRetryState, planNextAttempt } from '../lib/routing/retry-plan';
import type { AttemptFailureDetails, AttemptSuccess, LlmCallInput } from '../schemas/call';
import type { AttemptRecord, LlmResult } from '../schemas/llm';
import { failureTypes, searchAttributes } from './definitions';

type AttemptActivities = ReturnType<typeof createAttemptActivities>;
type PlanActivities = ReturnType<typeof createPlanActivities>;

const { planCall } = proxyLocalActivities<PlanActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [failureTypes.invalidRequest] },
});

/** Margin over the SDK's own timeout, so the SDK's (classified) timeout fires first. */
const ACTIVITY_TIMEOUT_MARGIN_MS = 5_000;

function upsert(values: Partial<Record<keyof typeof searchAttributes, string | undefined>>): void {
  const updates = Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ({ key: searchAttributes[key as keyof typeof searchAttributes], value: value as string }));
  if (updates.length) upsertSearchAttributes(updates);
}

/** The attempt's failure details, or a retryable "worker lost" when the activity timed out (its worker died). */
function failureOf(error: unknown, upstreamHint: string | undefined): AttemptFailureDetails {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === failureTypes.attemptFailed) {
    const details = error.cause.details?.[0] as AttemptFailureDetails | undefined;
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
  const { request, callId } = input;
  const { workflowId } = workflowInfo();
  const startedAt = Date.now();
  upsert({ tenant: request.tenant, user: request.user, feature: request.feature, route: request.route, outcome: 'running' });

  const plan = await planCall(input);
  if (plan.avoidedProvider) log.info('failover switch honoured', { avoided: plan.avoidedProvider });
  const deadlineAt = startedAt + (request.deadlineMs ?? plan.callTimeoutMs);
  const attempts: AttemptRecord[] = [];
  let state = initialRetryState();
  let step: { entryIndex: number; exclude: string[]; delayMs: number } = { entryIndex: 0, exclude: [], delayMs: 0 };

  for (;;) {
    if (step.delayMs > 0) await sleep(step.delayMs);
    const entry = plan.entries[step.entryIndex]!;
    state = countAttempt(state);
    const remainingMs = deadlineAt - Date.now();
    const attemptTimeoutMs = Math.max(1, Math.min(plan.attemptTimeoutMs, remainingMs));
    const { attemptCall } = proxyActivities<AttemptActivities>({
      startToCloseTimeout: attemptTimeoutMs + ACTIVITY_TIMEOUT_MARGIN_MS,
      heartbeatTimeout: plan.heartbeatMs,
      // Retries live in this workflow, which moves between upstreams and vendors.
      retry: { maximumAttempts: 1 },
    });
    try {
      const success: AttemptSuccess = await attemptCall({
        callId,
        workflowId,
        attempt: state.totalAttempts,
        request,
        entry,
        exclude: step.exclude,
        attemptTimeoutMs,
      });
      attempts.push({
        attempt: state.totalAttempts,
        provider: entry.provider,
        upstream: success.upstream,
        model: entry.model,
        promptVariant: success.promptVariant,
        outcome: 'success',
        latencyMs: success.latencyMs,
        startedAt: success.startedAt,
      });
      upsert({ provider: entry.provider, upstream: success.upstream, outcome: attempts.length > 1 ? 'recovered' : 'success' });
      return {
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
        latencyMs: Date.now() - startedAt,
        attempts,
      };
    } catch (error) {
      const failure = failureOf(error, undefined);
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
      const decision = planNextAttempt({ plan, state, failure, now: Date.now(), deadlineAt, random01: Math.random() });
      state = decision.state;
      if (decision.step.kind === 'give_up') {
        upsert({ provider: entry.provider, ...(failure.upstream ? { upstream: failure.upstream } : {}), outcome: 'failed' });
        throw ApplicationFailure.create({
          type: decision.step.failureType,
          message: decision.step.reason,
          nonRetryable: true,
          details: [{ attempts }],
        });
      }
      log.info('next attempt', { reason: decision.step.reason, delayMs: decision.step.delayMs });
      step = decision.step;
    }
  }
}
