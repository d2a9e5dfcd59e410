/**
 * The llmCall workflow on the real Temporal dev server with fake activities:
 * the shape of a call in history — how many workflow tasks, which steps are
 * local-activity markers and which ordinary activities or timers — and the
 * branches the real-stack tests cannot reach cheaply (a cancelled local
 * attempt, a long backoff, the give-up record).
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { createCallStepActivities, type FinishCallInput } from '../../activities/call-steps';
import type { CallFailureInput } from '../../activities/interactions';
import type { AttemptFailureDetails, AttemptInput, AttemptSuccess, CallPlan, LlmCallInput } from '../../schemas/call';
import type { CacheStoreInput } from '../../schemas/cache';
import { RetryConfig } from '../../schemas/config';
import { CacheConfig, PiiConfig } from '../../schemas/validation';
import { failureTypes } from '../../contracts/failures';
import { callStartSearchAttributes } from '../../contracts/names';
import { type LlmCallWorkflow, workflowTypes } from '../../contracts/workflow-types';
import { openTestContext, withWorker, type TestContext } from '../harness/env';
import { eventually } from '../harness/switchboard';

const plan: CallPlan = {
  entries: [{ provider: 'solo', model: 'solo-model', upstreamCount: 1 }],
  retry: RetryConfig.parse({ initialIntervalMs: 50, maxIntervalMs: 100, maxAttemptsPerEntry: 3, maxAttempts: 3, maxRetryAfterWaitMs: 10_000 }),
  attemptTimeoutMs: 5_000,
  heartbeatMs: 5_000,
  callTimeoutMs: 60_000,
  cache: CacheConfig.parse({}),
  pii: PiiConfig.parse({ enabled: false }),
};

const answer = (input: AttemptInput): AttemptSuccess => ({
  upstream: 'solo/org-a',
  promptVariant: 'none',
  text: `answer to attempt ${input.attempt}`,
  finishReason: 'stop',
  usage: { inputTokens: 1, outputTokens: 2 },
  model: input.entry.model,
  latencyMs: 1,
  startedAt: Date.now(),
});

const failed = (details: Partial<AttemptFailureDetails>) =>
  ApplicationFailure.create({
    type: failureTypes.attemptFailed,
    message: 'attempt failed',
    nonRetryable: true,
    details: [
      {
        outcome: 'retryable',
        errorType: 'server_error',
        message: 'boom',
        upstream: 'solo/org-a',
        promptVariant: 'none',
        latencyMs: 1,
        startedAt: Date.now(),
        ...details,
      },
    ],
  });

/**
 * The real call-step activities (answerCall, prepareCall, finishCall) over fake
 * dependencies: the plan above (a cache hit when asked), attempts by script;
 * everything they were given is kept.
 */
function fakes(script: Array<(input: AttemptInput) => Promise<AttemptSuccess>>, o: { hit?: boolean; planFailures?: number } = {}) {
  let planFailures = o.planFailures ?? 0;
  const seen = { attempts: [] as AttemptInput[], finished: [] as FinishCallInput[], failures: [] as CallFailureInput[] };
  const attemptCall = async (input: AttemptInput): Promise<AttemptSuccess> => {
    seen.attempts.push(input);
    const next = script[seen.attempts.length - 1];
    if (!next) throw new Error(`attempt ${seen.attempts.length} has no script`);
    return next(input);
  };
  // finishCall stores (when there is something to store), then records: one FinishCallInput per finish.
  let stored: CacheStoreInput | undefined;
  const steps = createCallStepActivities({
    planCall: async (_input: LlmCallInput) => {
      if (planFailures-- > 0) throw new Error('the config bucket is away');
      return plan;
    },
    lookupCachedAnswer: async () =>
      o.hit ? { ...answer({ attempt: 0, entry: plan.entries[0]! } as AttemptInput), provider: 'solo', storedAt: 1, expiresAt: Date.now() + 60_000 } : null,
    storeCachedAnswer: async (input) => {
      stored = input;
    },
    recordInteraction: async (record) => {
      seen.finished.push({ ...(stored ? { store: stored } : {}), record });
      stored = undefined;
    },
    attemptCall,
  });
  const activities = {
    ...steps,
    attemptCall,
    async recordCallFailure(input: CallFailureInput): Promise<void> {
      seen.failures.push(input);
    },
  };
  return { activities, seen };
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
/** Local-activity markers (the call-shape patch marker and its TemporalChangeVersion upsert are counted apart). */
const markers = (events: HistoryEvent[]) => events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
const patchMarkers = (events: HistoryEvent[]) => events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length;
/** Upserts of Switchboard's own attributes (not the SDK's TemporalChangeVersion for the patch marker). */
const ownUpserts = (events: HistoryEvent[]) =>
  events.filter((e) =>
    Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).some((k) => k !== 'TemporalChangeVersion'),
  ).length;
const count = (events: HistoryEvent[], key: keyof HistoryEvent) => events.filter((e) => e[key]).length;

describe('llmCall in history (fake activities)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await openTestContext();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const request = (tag: string) => ({ route: 'chat', tenant: 'acme', stream: false, messages: [{ role: 'user' as const, content: `Hello ${tag}` }] });

  async function start(tag: string) {
    const callId = `call-${randomUUID()}`;
    const r = request(tag);
    return ctx.client.workflow.start<LlmCallWorkflow>(workflowTypes.llmCall, {
      taskQueue: ctx.taskQueue,
      workflowId: callId,
      args: [{ callId, request: r }],
      typedSearchAttributes: callStartSearchAttributes(r),
    });
  }

  it('answers in one workflow task and ONE local activity (plan, cache, attempt and finish in answerCall), the outcome upserted in the same completion', async () => {
    const { activities, seen } = fakes([async (input) => answer(input)]);
    await withWorker({ taskQueue: ctx.taskQueue, activities }, async () => {
      const handle = await start('happy');
      const result = await handle.result();
      expect(result).toMatchObject({ text: 'answer to attempt 1', provider: 'solo', upstream: 'solo/org-a', cached: false, validation: 'none' });
      const events = (await handle.fetchHistory()).events ?? [];
      expect(count(events, 'workflowTaskCompletedEventAttributes')).toBe(1);
      expect(markers(events)).toBe(1);
      expect(patchMarkers(events)).toBe(1);
      expect(count(events, 'activityTaskScheduledEventAttributes')).toBe(0);
      // Known at start: set in the start request, not upserted; the answer's attributes ride on the one completion.
      expect(ownUpserts(events)).toBe(1);
      const attrs = (await handle.describe()).searchAttributes as Record<string, unknown[]>;
      expect(attrs).toMatchObject({ SbTenant: ['acme'], SbRoute: ['chat'], SbProvider: ['solo'], SbUpstream: ['solo/org-a'], SbOutcome: ['success'] });
    });
    expect(seen.finished).toHaveLength(1);
    expect(seen.finished[0]!.store?.answer.text).toBe('answer to attempt 1');
    expect(seen.finished[0]!.record.result.text).toBe('answer to attempt 1');
  });

  it('takes the steps apart when answerCall fails before its attempt: prepared again (with retries), attempted once, answered', async () => {
    const { activities, seen } = fakes([async (input) => answer(input)], { planFailures: 1 });
    await withWorker({ taskQueue: ctx.taskQueue, activities }, async () => {
      const handle = await start('prepare-apart');
      expect(await handle.result()).toMatchObject({ text: 'answer to attempt 1', cached: false });
      // answerCall (failed), prepareCall, the local attempt, finishCall.
      expect(markers((await handle.fetchHistory()).events ?? [])).toBe(4);
    });
    expect(seen.attempts).toHaveLength(1);
    expect(seen.finished).toHaveLength(1);
  });

  it('answers a cache hit without an attempt and stores nothing', async () => {
    const { activities, seen } = fakes([], { hit: true });
    await withWorker({ taskQueue: ctx.taskQueue, activities }, async () => {
      const handle = await start('cached');
      expect(await handle.result()).toMatchObject({ cached: true, costUsd: 0, attempts: [] });
      expect(markers((await handle.fetchHistory()).events ?? [])).toBe(1);
    });
    expect(seen.attempts).toHaveLength(0);
    expect(seen.finished[0]!.store).toBeUndefined();
  });

  it('runs the attempt after a failure as an ordinary activity with a heartbeat timeout', async () => {
    const { activities, seen } = fakes([async () => Promise.reject(failed({})), async (input) => answer(input)]);
    await withWorker({ taskQueue: ctx.taskQueue, activities }, async () => {
      const handle = await start('retry');
      const result = await handle.result();
      expect(result.attempts.map((a) => a.outcome)).toEqual(['retryable', 'success']);
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!);
      expect(scheduled.map((a) => a.activityType?.name)).toEqual(['attemptCall']);
      expect(Number(scheduled[0]!.heartbeatTimeout?.seconds ?? 0)).toBe(5);
      expect(((await handle.describe()).searchAttributes as Record<string, unknown[]>).SbOutcome).toEqual(['recovered']);
    });
    // The short backoff went inside the second attempt, not on a timer.
    expect(seen.attempts.map((a) => a.waitMs ?? 0)).toEqual([0, expect.any(Number)]);
  });

  it('waits a long retry-after on a durable timer', async () => {
    const { activities } = fakes([
      async () => Promise.reject(failed({ outcome: 'rate_limited', errorType: 'rate_limit_exceeded', status: 429, retryAfterMs: 1_500 })),
      async (input) => answer(input),
    ]);
    await withWorker({ taskQueue: ctx.taskQueue, activities }, async () => {
      const handle = await start('timer');
      await handle.result();
      const timers = ((await handle.fetchHistory()).events ?? []).filter((e) => e.timerStartedEventAttributes).map((e) => e.timerStartedEventAttributes!);
      expect(timers).toHaveLength(1);
      expect(Number(timers[0]!.startToFireTimeout?.seconds ?? 0) * 1000 + (timers[0]!.startToFireTimeout?.nanos ?? 0) / 1e6).toBeGreaterThanOrEqual(1_000);
    });
  });

  it('records a call that gave up, once, and fails with the stable type and the attempt log', async () => {
    const fail = async () => Promise.reject(failed({}));
    const { activities, seen } = fakes([fail, fail, fail]);
    await withWorker({ taskQueue: ctx.taskQueue, activities }, async () => {
      const handle = await start('give-up');
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe(failureTypes.exhausted);
      expect((cause.details?.[0] as { attempts: unknown[] }).attempts).toHaveLength(3);
      expect(((await handle.describe()).searchAttributes as Record<string, unknown[]>).SbOutcome).toEqual(['failed']);
    });
    expect(seen.failures).toHaveLength(1);
    expect(seen.failures[0]).toMatchObject({ provider: 'solo', upstream: 'solo/org-a', attempts: 3 });
    expect(seen.finished).toHaveLength(0);
  });

  it('ends cancelled — no retry, no failure record — when the call is cancelled during its local attempt', async () => {
    let cancelledAt: number | undefined;
    const hang = async (): Promise<AttemptSuccess> => {
      const ctxActivity = Context.current();
      await new Promise<void>((resolve) => ctxActivity.cancellationSignal.addEventListener('abort', () => resolve()));
      cancelledAt = Date.now();
      throw new Error('aborted by the caller');
    };
    const { activities, seen } = fakes([hang]);
    await withWorker({ taskQueue: ctx.taskQueue, activities }, async () => {
      const handle = await start('cancel');
      await eventually('the attempt to start', () => (seen.attempts.length > 0 ? true : undefined), 20_000);
      const requestedAt = Date.now();
      await handle.cancel();
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
      // A local activity hears of the cancellation at its workflow task's next heartbeat: within the task timeout (10 s).
      expect(cancelledAt! - requestedAt).toBeLessThan(10_000);
      process.stdout.write(`  a local attempt heard of the cancellation ${cancelledAt! - requestedAt} ms after it was requested\n`);
    });
    expect(seen.attempts).toHaveLength(1);
    expect(seen.failures).toHaveLength(0);
    expect(seen.finished).toHaveLength(0);
  });
});
