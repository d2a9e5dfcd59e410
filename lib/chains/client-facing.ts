/**
 * Starting and describing chain runs from outside Temporal: the typed
 * client's `startChain`/`runChain` and the gateway's `POST /v1/chains` /
 * `GET /v1/chains/:id` both stand on these two functions.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, type Client, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  type ChainDefinition,
  type ChainProgress,
  type ChainResult,
  ChainRunRequest,
  type ChainRunInput,
  type ChainRunRequestInput,
  ChainStepFailureDetails,
} from '../../schemas/chain';
import { type AgentChainWorkflow, workflowTypes } from '../../contracts/workflow-types';
import { chainWorkflowId, searchAttributes, TASK_QUEUE } from '../../contracts/names';
import { chainQueries } from '../../contracts/workflow-types';
import { describeZodIssues } from '../config/load';
import { SwitchboardChainError, SwitchboardRequestError } from '../client/errors';
import { assertOwned, isExecutionNotOwnedError } from '../tenancy/ownership';
import { checkJsonSchema } from '../validation/json-schema';
import type { ChainRegistry } from './registry';

export type ChainWorkflowHandle = WorkflowHandle<AgentChainWorkflow>;

export interface StartChainOptions {
  /** Default `switchboard`. */
  taskQueue?: string;
  /** Chains startable by name. */
  registry: ChainRegistry;
  /** A definition given here runs as is (typed client only); otherwise `request.chain` is looked up. */
  definition?: ChainDefinition;
}

/**
 * Validates the request and the input against the chain's input schema, then
 * starts the run (or finds the one with the same idempotency key). Throws
 * SwitchboardRequestError naming the field when anything is wrong.
 */
export async function startChainRun(client: Client, raw: ChainRunRequestInput, options: StartChainOptions): Promise<ChainWorkflowHandle> {
  const parsed = ChainRunRequest.safeParse(raw);
  if (!parsed.success) {
    throw new SwitchboardRequestError(
      `invalid chain request: ${describeZodIssues(parsed.error)}`,
      parsed.error.issues[0]?.path.map(String).join('.'),
      parsed.error.issues.map((i) => i.message),
    );
  }
  const request = parsed.data;
  const definition = options.definition ?? options.registry.get(request.chain);
  if (!definition) {
    throw new SwitchboardRequestError(`unknown chain "${request.chain}" (known: ${[...options.registry.keys()].join(', ') || 'none'})`, 'chain', [
      'unknown chain',
    ]);
  }
  if (definition.input) {
    const issues = checkJsonSchema(request.input, definition.input);
    if (issues.length) {
      const field = `input${issues[0]!.path?.slice(1) ?? ''}`;
      throw new SwitchboardRequestError(
        `input of chain "${definition.name}" is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        field,
        issues.map((i) => i.message),
      );
    }
  }
  const workflowId = chainWorkflowId(request.tenant, request.idempotencyKey, randomUUID);
  const args: [ChainRunInput] = [
    { chainId: workflowId, definition, input: request.input, tenant: request.tenant, ...(request.user ? { user: request.user } : {}) },
  ];
  let handle: ChainWorkflowHandle;
  try {
    handle = await client.workflow.start<AgentChainWorkflow>(workflowTypes.agentChain, {
      taskQueue: options.taskQueue ?? TASK_QUEUE,
      workflowId,
      args,
      // Same key while running: join it; after it closed: its result stands.
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      // Filterable in the UI, and how the gateway scopes GET /v1/chains/:id to the tenant.
      typedSearchAttributes: [
        { key: searchAttributes.tenant, value: request.tenant },
        ...(request.user ? [{ key: searchAttributes.user, value: request.user }] : []),
      ],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    handle = client.workflow.getHandle<AgentChainWorkflow>(workflowId);
  }
  // A keyed id may have joined an existing run: it must be this tenant's chain.
  if (request.idempotencyKey) {
    await assertOwned(client, { workflowId, tenant: request.tenant, workflowType: workflowTypes.agentChain }).catch((error: unknown) => {
      if (!isExecutionNotOwnedError(error)) throw error;
      throw new SwitchboardRequestError(`idempotency key names a run that is not a chain of tenant "${request.tenant}"`, 'idempotencyKey', [error.message]);
    });
  }
  return handle;
}

/** A chain run's failure as the typed client throws it. */
export function toChainError(error: unknown, chainId: string): unknown {
  if (error instanceof WorkflowFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure) {
      const details = ChainStepFailureDetails.safeParse(cause.details?.[0]);
      return new SwitchboardChainError(cause.message, cause.type ?? 'unknown', chainId, details.data?.step, details.data?.index, { cause: error });
    }
    return new SwitchboardChainError(cause?.message ?? error.message, cause?.name ?? 'unknown', chainId, undefined, undefined, { cause: error });
  }
  return error;
}

export type ChainRunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

/** What `GET /v1/chains/:id` answers: progress while running, the result when done, the error when failed. */
export interface ChainRunView {
  chainId: string;
  status: ChainRunStatus;
  progress?: ChainProgress;
  result?: ChainResult;
  error?: { type: string; message: string; step?: string; index?: number };
}

/**
 * Describes a run by id. Progress comes from the workflow's query, which a
 * worker answers: with no worker up, `describeChainRun` waits for one.
 */
export async function describeChainRun(client: Client, chainId: string): Promise<ChainRunView> {
  const handle = client.workflow.getHandle<AgentChainWorkflow>(chainId);
  const { status } = await handle.describe();
  switch (status.name) {
    case 'RUNNING':
      return { chainId, status: 'running', progress: await handle.query(chainQueries.progress) };
    case 'COMPLETED':
      return { chainId, status: 'completed', result: await handle.result() };
    case 'FAILED': {
      const failure = await handle.result().then(
        () => undefined,
        (error: unknown) => toChainError(error, chainId),
      );
      const chainError = failure instanceof SwitchboardChainError ? failure : undefined;
      return {
        chainId,
        status: 'failed',
        error: {
          type: chainError?.type ?? 'unknown',
          message: failure instanceof Error ? failure.message : 'failed',
          ...(chainError?.step ? { step: chainError.step } : {}),
          ...(chainError?.index !== undefined ? { index: chainError.index } : {}),
        },
      };
    }
    case 'CANCELLED':
      return { chainId, status: 'cancelled' };
    case 'TIMED_OUT':
      return { chainId, status: 'timed_out' };
    default:
      return { chainId, status: 'terminated' };
  }
}
