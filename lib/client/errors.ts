import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { AttemptRecord } from '../../schemas/llm';
import { failureTypes, isCallFailureType, type CallFailureType } from '../../contracts/failures';

/** The request is malformed; nothing was started. `field` names the first bad field. */
export class SwitchboardRequestError extends Error {
  override readonly name = 'SwitchboardRequestError';
  constructor(
    message: string,
    readonly field: string | undefined,
    readonly issues: string[],
  ) {
    super(message);
  }
}

export function isSwitchboardRequestError(error: unknown): error is SwitchboardRequestError {
  return error instanceof Error && error.name === 'SwitchboardRequestError';
}

/** The call ran and failed; `type` is a stable failure type (see failureTypes), `attempts` the attempt log. */
export class SwitchboardCallError extends Error {
  override readonly name = 'SwitchboardCallError';
  constructor(
    message: string,
    readonly type: CallFailureType,
    readonly callId: string,
    readonly attempts: AttemptRecord[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isSwitchboardCallError(error: unknown): error is SwitchboardCallError {
  return error instanceof Error && error.name === 'SwitchboardCallError';
}

/**
 * A failed llmCall workflow as the caller's error — the one mapping the typed
 * client and the gateway share: the workflow's ApplicationFailure gives the
 * stable type and the attempt log; a workflow that failed any other way is
 * `SbWorkflowFailed`. Anything else (Temporal unreachable, a cancellation) is
 * returned as it came.
 */
export function callErrorOf(error: unknown, callId: string): unknown {
  if (!(error instanceof WorkflowFailedError)) return error;
  if (error.cause instanceof ApplicationFailure) {
    const details = error.cause.details?.[0] as { attempts?: AttemptRecord[] } | undefined;
    const type = isCallFailureType(error.cause.type ?? undefined) ? (error.cause.type as CallFailureType) : failureTypes.workflowFailed;
    return new SwitchboardCallError(error.cause.message, type, callId, details?.attempts ?? [], { cause: error });
  }
  return new SwitchboardCallError(error.message, failureTypes.workflowFailed, callId, [], { cause: error });
}

/** A chain ran and failed; `step` (and `index` in a fan-out) name where, `type` is a stable failure type (chainFailureTypes). */
export class SwitchboardChainError extends Error {
  override readonly name = 'SwitchboardChainError';
  constructor(
    message: string,
    readonly type: string,
    readonly chainId: string,
    readonly step: string | undefined,
    readonly index: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isSwitchboardChainError(error: unknown): error is SwitchboardChainError {
  return error instanceof Error && error.name === 'SwitchboardChainError';
}
