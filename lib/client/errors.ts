import type { AttemptRecord } from '../../schemas/llm';

/** The request is malformed; nothing was started. `field` names the first bad field. */
export class SwitchboardRequestError extends Error {
  override readonly name = 'SwitchboardRequestError';
  constructor(message: string, readonly field: string | undefined, readonly issues: string[]) {
    super(message);
  }
}

export function isSwitchboardRequestError(error: unknown): error is SwitchboardRequestError {
  return error instanceof Error && error.name === 'SwitchboardRequestError';
}

/** The call ran and failed; `type` is a stable failure type (see failureTypes), `attempts` the attempt log. */
export class SwitchboardCallError extends Error {
  override readonly name = 'SwitchboardCallError';
  constructor(message: string, readonly type: string, readonly callId: string, readonly attempts: AttemptRecord[], options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isSwitchboardCallError(error: unknown): error is SwitchboardCallError {
  return error instanceof Error && error.name === 'SwitchboardCallError';
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
