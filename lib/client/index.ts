/**
 * The typed client services use to make LLM calls through Switchboard:
 * `complete(request)` waits for the answer, `start(request)` returns a handle.
 * Requests are validated before anything starts.
 */
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import type { NatsConnection } from 'nats';
import { z } from 'zod';
import type { LlmCallInput } from '../../schemas/call';
import { LlmRequest, type LlmRequestInput, type LlmResult } from '../../schemas/llm';
import { failureTypes } from '../../contracts/failures';
import { CALL_WORKFLOW_TASK_TIMEOUT_MS, callStartSearchAttributes, callWorkflowId, TASK_QUEUE } from '../../contracts/names';
import { type LlmCallWorkflow, workflowTypes } from '../../contracts/workflow-types';
import { describeZodIssues } from '../config/load';
import { assertOwned, isExecutionNotOwnedError } from '../tenancy/ownership';
import type { ChainRegistry } from '../chains/registry';
import { createChainClient } from './chains';
import { createFeedbackClient } from './feedback';
import { callErrorOf, SwitchboardCallError, SwitchboardRequestError } from './errors';

export interface SwitchboardClientOptions {
  client: Client;
  /** Default `switchboard`. */
  taskQueue?: string;
  /** Chains `startChain`/`runChain` can start by name (createChainRegistry). Default: none; definitions can still be passed inline. */
  chains?: ChainRegistry;
  /** NATS connection `feedback()` publishes on. Default none (then `feedback()` throws). */
  nats?: NatsConnection;
}

export interface CallHandle {
  callId: string;
  workflowId: string;
  /** The answer, or a SwitchboardCallError. */
  result(): Promise<LlmResult>;
  handle: WorkflowHandle<LlmCallWorkflow>;
}

function parseRequest(request: LlmRequestInput): LlmRequest {
  const parsed = LlmRequest.safeParse(request);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const field = first?.path.map(String).join('.') || undefined;
    throw new SwitchboardRequestError(
      `invalid LLM request: ${describeZodIssues(parsed.error)}`,
      field,
      parsed.error.issues.map((i) => i.message),
    );
  }
  return parsed.data;
}

export function createSwitchboardClient({ client, taskQueue = TASK_QUEUE, chains = new Map(), nats }: SwitchboardClientOptions) {
  async function checkJoined(workflowId: string, tenant: string): Promise<void> {
    try {
      await assertOwned(client, { workflowId, tenant, workflowType: workflowTypes.llmCall });
    } catch (error) {
      if (!isExecutionNotOwnedError(error)) throw error;
      throw new SwitchboardRequestError(`idempotency key names an execution that is not a call of tenant "${tenant}"`, 'idempotencyKey', [error.message]);
    }
  }

  async function start(input: LlmRequestInput): Promise<CallHandle> {
    const request = parseRequest(input);
    const workflowId = callWorkflowId(request.tenant, request.idempotencyKey, randomUUID);
    const callId = workflowId;
    const args: [LlmCallInput] = [{ callId, request }];
    let handle: WorkflowHandle<LlmCallWorkflow>;
    try {
      handle = await client.workflow.start<LlmCallWorkflow>(workflowTypes.llmCall, {
        taskQueue,
        workflowId,
        args,
        // Same key while running: join it; after it closed: its result stands.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // Set at start: a join can check whose execution it found at once, and the workflow's first task upserts nothing.
        typedSearchAttributes: callStartSearchAttributes(request),
        workflowTaskTimeout: CALL_WORKFLOW_TASK_TIMEOUT_MS,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      handle = client.workflow.getHandle<LlmCallWorkflow>(workflowId);
    }
    // A keyed id may have joined an existing execution: it must be this tenant's call.
    if (request.idempotencyKey) await checkJoined(workflowId, request.tenant);
    return {
      callId,
      workflowId,
      handle,
      result: () => handle.result().catch((error: unknown) => Promise.reject(callErrorOf(error, callId))),
    };
  }

  return {
    ...createChainClient({ client, taskQueue, chains }),
    ...createFeedbackClient({ client, nats }),
    start,
    /** Runs one call and returns its answer. */
    async complete(request: LlmRequestInput): Promise<LlmResult> {
      return (await start(request)).result();
    },
    /**
     * Structured output from one zod schema: realised per vendor (OpenAI
     * json_schema, Anthropic forced tool use) and parsed back with the schema.
     */
    async completeStructured<T extends z.ZodType>(request: LlmRequestInput, name: string, schema: T): Promise<LlmResult & { output: z.infer<T> }> {
      const jsonSchema = z.toJSONSchema(schema, { target: 'draft-7' }) as Record<string, unknown>;
      const result = await (await start({ ...request, output: { name, schema: jsonSchema } })).result();
      const parsed = schema.safeParse(result.output);
      if (!parsed.success) {
        throw new SwitchboardCallError(
          `structured output "${name}" does not match its schema: ${describeZodIssues(parsed.error)}`,
          failureTypes.invalidOutput,
          result.callId,
          result.attempts,
        );
      }
      return { ...result, output: parsed.data };
    },
  };
}
export type SwitchboardClient = ReturnType<typeof createSwitchboardClient>;
export {
  callErrorOf,
  isSwitchboardCallError,
  isSwitchboardChainError,
  isSwitchboardRequestError,
  SwitchboardCallError,
  SwitchboardChainError,
  SwitchboardRequestError,
} from './errors';
export type { ChainHandle, ChainRunOptions } from './chains';
