/**
 * Whose execution is this? Every join of an existing workflow — a start that
 * found its id taken (USE_EXISTING), a chain read, feedback on a call, a
 * result read — asks here before anything is returned: the execution must be
 * of the expected type and carry the caller's tenant in its `SbTenant` search
 * attribute (set at start, so it is there before the first workflow task).
 * Another tenant's execution is indistinguishable from a missing one.
 */
import { type Client, type WorkflowExecutionDescription, WorkflowNotFoundError } from '@temporalio/client';
import { searchAttributes } from '../../contracts/names';

export interface OwnedExecution {
  workflowId: string;
  /** The caller's tenant. */
  tenant: string;
  /** Workflow type the id must name (`llmCall`, `agentChain`). */
  workflowType: string;
}

/** The execution is missing, of another type, or another tenant's. */
export class ExecutionNotOwnedError extends Error {
  override readonly name = 'ExecutionNotOwnedError';
  constructor(
    readonly workflowId: string,
    readonly tenant: string,
  ) {
    super(`no ${workflowId} for tenant "${tenant}"`);
  }
}

export function isExecutionNotOwnedError(error: unknown): error is ExecutionNotOwnedError {
  return error instanceof Error && error.name === 'ExecutionNotOwnedError';
}

/** The tenant an execution's description names, or undefined when it names none. */
function tenantOfExecution(description: WorkflowExecutionDescription): string | undefined {
  const tenant = description.typedSearchAttributes.get(searchAttributes.tenant);
  return typeof tenant === 'string' ? tenant : undefined;
}

/** Describes the execution when it is `tenant`'s and of `workflowType`; undefined otherwise (missing included). */
export async function describeOwned(client: Client, { workflowId, tenant, workflowType }: OwnedExecution): Promise<WorkflowExecutionDescription | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.type === workflowType && tenantOfExecution(description) === tenant ? description : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** Throws ExecutionNotOwnedError unless the execution is `tenant`'s and of `workflowType`. */
export async function assertOwned(client: Client, execution: OwnedExecution): Promise<WorkflowExecutionDescription> {
  const description = await describeOwned(client, execution);
  if (!description) throw new ExecutionNotOwnedError(execution.workflowId, execution.tenant);
  return description;
}
