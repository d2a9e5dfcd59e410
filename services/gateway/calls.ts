/**
 * Starting llmCall workflows for the gateway. The call id (= workflow id) is
 * derived before the start, so a stream can subscribe to `sb.stream.<callId>`
 * first; `Idempotency-Key` makes the id stable, so a retried request joins
 * (or reads the result of) the same execution.
 */
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { callErrorOf } from '../../lib/client/errors';
import type { LlmCallInput } from '../../schemas/call';
import type { LlmRequest, LlmResult } from '../../schemas/llm';
import { assertOwned, isExecutionNotOwnedError } from '../../lib/tenancy/ownership';
import { CALL_WORKFLOW_TASK_TIMEOUT_MS, callStartSearchAttributes, callWorkflowId } from '../../contracts/names';
import { type LlmCallWorkflow, workflowTypes } from '../../contracts/workflow-types';
import { isTemporalUnavailable } from './dependency-errors';
import { GatewayError } from './http-errors';
import type { AnswerHandoff } from '../../lib/call/answer-handoff';

export interface CallStarterOptions {
  client: Client;
  taskQueue: string;
  /** Ask the server to hand the first workflow task straight back (needs a worker on the client's connection). */
  eagerStart: boolean;
  /** Told whether each new execution was started eagerly (not called when the id joined an existing one). */
  onStarted?: (eagerlyStarted: boolean) => void;
  /** The in-process worker's hand-off: an eagerly started call's answer may come from it (lib/call/answer-handoff.ts). */
  handoff?: AnswerHandoff;
  /** Told where each result that reached its request came from. */
  onAnswered?: (via: 'handoff' | 'workflow') => void;
}

export interface StartedCall {
  callId: string;
  /** The answer, or a SwitchboardCallError (lib/client/errors.ts: the mapping the typed client uses too). */
  result(): Promise<LlmResult>;
  /** Stops the workflow (the caller went away or the gateway deadline passed). */
  cancel(): Promise<void>;
}

export function callIdFor(request: LlmRequest): string {
  return callWorkflowId(request.tenant, request.idempotencyKey, randomUUID);
}

/** Longest pause between two tries while Temporal does not answer. */
const MAX_RETRY_PAUSE_MS = 2_000;
/** Share of the request's deadline a start may spend waiting for Temporal (the rest is the call's). */
const START_SHARE_OF_DEADLINE = 0.25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `op` again while Temporal is unavailable (backoff 100 ms → 2 s) until `untilMs` (epoch); then its last error. */
async function whileTemporalAway<T>(op: () => Promise<T>, untilMs: number): Promise<T> {
  for (let pauseMs = 100; ; pauseMs = Math.min(MAX_RETRY_PAUSE_MS, pauseMs * 2)) {
    try {
      return await op();
    } catch (error) {
      if (!isTemporalUnavailable(error) || Date.now() + pauseMs > untilMs) throw error;
      await sleep(pauseMs);
    }
  }
}

export function createCallStarter({ client, taskQueue, eagerStart, onStarted, handoff, onAnswered }: CallStarterOptions) {
  return async function startCall(callId: string, request: LlmRequest): Promise<StartedCall> {
    const args: [LlmCallInput] = [{ callId, request }];
    const arrived = Date.now();
    const deadlineMs = request.deadlineMs ?? 120_000;
    // Expected before the start: an eager start's task may run its local activity as soon as the start returns.
    const expected = eagerStart ? handoff?.expect(callId) : undefined;
    let handle: WorkflowHandle<LlmCallWorkflow>;
    try {
      // Temporal away for a moment (a restart, a failover): keep trying within a share of the deadline, then a 503 naming it.
      const started = await whileTemporalAway(
        () =>
          client.workflow.start<LlmCallWorkflow>(workflowTypes.llmCall, {
            taskQueue,
            workflowId: callId,
            args,
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            requestEagerStart: eagerStart,
            // Set at start: a join can check whose execution it found at once, and the workflow's first task upserts nothing.
            typedSearchAttributes: callStartSearchAttributes(request),
            workflowTaskTimeout: CALL_WORKFLOW_TASK_TIMEOUT_MS,
          }),
        arrived + deadlineMs * START_SHARE_OF_DEADLINE,
      );
      onStarted?.(started.eagerlyStarted);
      expected?.started(started.eagerlyStarted);
      handle = started;
      // A keyed id may have joined a running execution: whose? (An eager start is always new.)
      if (request.idempotencyKey && !started.eagerlyStarted) await checkJoined(client, callId, request.tenant);
    } catch (error) {
      expected?.dispose();
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      handle = client.workflow.getHandle<LlmCallWorkflow>(callId);
      await checkJoined(client, callId, request.tenant);
    }
    return {
      callId,
      async result() {
        const handedOver = await expected?.answer;
        onAnswered?.(handedOver ? 'handoff' : 'workflow');
        if (handedOver) return handedOver;
        // The workflow runs on while Temporal's frontend is briefly away: keep waiting for its result until the deadline.
        return whileTemporalAway(() => handle.result(), arrived + deadlineMs).catch((error: unknown) => Promise.reject(callErrorOf(error, callId)));
      },
      cancel: () =>
        handle.cancel().then(
          () => undefined,
          () => undefined,
        ),
    };
  };
}
export type CallStarter = ReturnType<typeof createCallStarter>;

/** The execution behind a keyed id must be the tenant's llmCall; nothing of it is returned otherwise (409). */
async function checkJoined(client: Client, callId: string, tenant: string): Promise<void> {
  try {
    await assertOwned(client, { workflowId: callId, tenant, workflowType: workflowTypes.llmCall });
  } catch (error) {
    if (!isExecutionNotOwnedError(error)) throw error;
    throw new GatewayError(409, 'invalid_request_error', 'this Idempotency-Key names an execution that is not a call of this API key', {
      code: 'idempotency_key_conflict',
      param: 'Idempotency-Key',
    });
  }
}
