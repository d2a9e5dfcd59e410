/**
 * Every failure type Switchboard's workflows end with: the stable names that
 * retry policies, the typed client and the gateway match on (never message
 * text). One place, so a new type is added here and nowhere else.
 */

/**
 * ApplicationFailure types: stable names that retry policies, callers and
 * the gateway match on (never message text).
 */
export const failureTypes = {
  /** One attempt failed; details carry the classification. */
  attemptFailed: 'SbAttemptFailed',
  /** The request itself is wrong (400): not retried, not a breaker failure. */
  invalidRequest: 'SbInvalidRequest',
  contextLength: 'SbContextLengthExceeded',
  contentPolicy: 'SbContentPolicy',
  /** Every attempt of the route failed; details carry the attempt log. */
  exhausted: 'SbUpstreamsExhausted',
  deadline: 'SbDeadlineExceeded',
  /** Our own code failed after the vendor answered: not retried on other upstreams, not a breaker failure. */
  internal: 'SbInternalError',
  /** The typed client's structured output did not match the caller's schema. */
  invalidOutput: 'SbInvalidOutput',
  /** The workflow failed other than through one of the types above (a bug, a terminated or timed-out execution). */
  workflowFailed: 'SbWorkflowFailed',
} as const;

/** ApplicationFailure types of the agentChain workflow. */
export const chainFailureTypes = {
  /** A step failed (its call failed, or its output failed its schema after the repairs); details name the step. */
  stepFailed: 'SbChainStepFailed',
  /** The definition or the input is wrong; nothing was called. */
  invalidChain: 'SbInvalidChain',
} as const;

/** Every failure type above, for exhaustive handling. */
export type FailureType = (typeof failureTypes)[keyof typeof failureTypes] | (typeof chainFailureTypes)[keyof typeof chainFailureTypes];
