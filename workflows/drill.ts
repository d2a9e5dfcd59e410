/**
 * fallbackDrill: sends each route's sample prompts through EVERY entry of the
 * route — the primary and each fallback — one attempt per prompt, pinned to
 * the entry's provider, model and prompt variant (no retry plan, no fallback,
 * no cache, no failover switch), checks the answers with the route's rules and
 * reports pass/fail and latency per entry. Started by the drill Schedule and
 * by `switchboard drill <route>`.
 *
 * The attempts are the ordinary `attemptCall`, so each one publishes a
 * CallEvent that the health registries fold like any other: a drill that
 * fails counts as a failure of that upstream (it IS failing). A half-open
 * upstream a drill happens to pick is probed by it.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { createAttemptActivities } from '../activities/attempts';
import type { createDrillActivities } from '../activities/drill';
import type { AttemptFailureDetails, PlannedEntry } from '../schemas/call';
import type { DrillEntryReport, DrillInput, DrillReport, DrillRoutePlan, DrillRun, DrillSample } from '../schemas/drill';
import { failureTypes } from '../contracts/failures';
import { DRILL_FEATURE, DRILL_TENANT } from '../contracts/names';
import { planStep } from './step-options';

type AttemptActivities = ReturnType<typeof createAttemptActivities>;
type DrillActivities = ReturnType<typeof createDrillActivities>;

const { planDrill } = proxyLocalActivities<DrillActivities>(planStep);
const { publishDrillReport } = proxyActivities<DrillActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

/** Margin over the SDK's own timeout, so the SDK's (classified) timeout fires first. */
const ACTIVITY_TIMEOUT_MARGIN_MS = 5_000;
/** Characters of a passing answer kept in the report. */
const ANSWER_PREVIEW_CHARS = 80;

/** The attempt's failure as the activity classified it; undefined when the activity itself failed (timeout, lost worker). */
function attemptFailure(error: unknown): AttemptFailureDetails | undefined {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === failureTypes.attemptFailed) {
    return error.cause.details?.[0] as AttemptFailureDetails | undefined;
  }
  return undefined;
}

function failedSample(prompt: number, error: unknown): DrillSample {
  const details = attemptFailure(error);
  if (!details) {
    const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    return { prompt, result: 'fail', latencyMs: 0, outcome: 'retryable', errorType: 'activity_failed', message: message.slice(0, 300) };
  }
  return {
    prompt,
    result: 'fail',
    ...(details.upstream ? { upstream: details.upstream } : {}),
    latencyMs: details.latencyMs,
    outcome: details.outcome,
    errorType: details.errorType,
    ...(details.status !== undefined ? { status: details.status } : {}),
    message: details.message.slice(0, 300),
  };
}

async function drillEntry(drillId: string, route: DrillRoutePlan, entry: PlannedEntry, index: number, heartbeatMs: number): Promise<DrillEntryReport> {
  const { attemptCall } = proxyActivities<AttemptActivities>({
    startToCloseTimeout: route.attemptTimeoutMs + ACTIVITY_TIMEOUT_MARGIN_MS,
    heartbeatTimeout: heartbeatMs,
    // One attempt per sample: a drill reports what the entry does now, it does not work around it.
    retry: { maximumAttempts: 1 },
  });
  const samples: DrillSample[] = [];
  let promptVariant = 'none';
  for (const [prompt, content] of route.prompts.entries()) {
    try {
      const answer = await attemptCall({
        callId: `${drillId}/${route.route}/${index}/${prompt}`,
        workflowId: drillId,
        attempt: 1,
        request: { route: route.route, tenant: DRILL_TENANT, feature: DRILL_FEATURE, messages: [{ role: 'user', content }], stream: false, cache: false },
        entry,
        exclude: [],
        attemptTimeoutMs: route.attemptTimeoutMs,
        validation: route.validation,
      });
      promptVariant = answer.promptVariant;
      samples.push({
        prompt,
        result: 'pass',
        upstream: answer.upstream,
        latencyMs: answer.latencyMs,
        answerPreview: answer.text.slice(0, ANSWER_PREVIEW_CHARS),
      });
    } catch (error) {
      promptVariant = attemptFailure(error)?.promptVariant ?? promptVariant;
      samples.push(failedSample(prompt, error));
    }
  }
  return {
    index,
    role: index === 0 ? 'primary' : 'fallback',
    provider: entry.provider,
    model: entry.model,
    ...(entry.prompt ? { prompt: entry.prompt } : {}),
    promptVariant,
    result: samples.every((s) => s.result === 'pass') ? 'pass' : 'fail',
    latencyMs: Math.max(...samples.map((s) => s.latencyMs)),
    samples,
  };
}

export async function fallbackDrill(input: DrillInput): Promise<DrillRun> {
  const { workflowId: drillId } = workflowInfo();
  const startedAt = Date.now();
  const plan = await planDrill({ ...(input.routes ? { routes: input.routes } : {}) });
  const reports: DrillReport[] = [];
  // Routes one after another, a route's entries side by side: a short, bounded burst on each vendor.
  for (const route of plan.routes) {
    const routeStartedAt = Date.now();
    const entries = await Promise.all(route.entries.map((entry, index) => drillEntry(drillId, route, entry, index, plan.heartbeatMs)));
    const report: DrillReport = {
      drillId,
      route: route.route,
      trigger: input.trigger,
      startedAt: routeStartedAt,
      finishedAt: Date.now(),
      result: entries.every((e) => e.result === 'pass') ? 'pass' : 'fail',
      entries,
    };
    await publishDrillReport({ report });
    reports.push(report);
  }
  return {
    drillId,
    trigger: input.trigger,
    startedAt,
    finishedAt: Date.now(),
    result: reports.every((r) => r.result === 'pass') ? 'pass' : 'fail',
    reports,
  };
}
