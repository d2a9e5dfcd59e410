/**
 * Every failure type Switchboard's workflows end with: the stable names that
 * retry policies, the typed client and the gateway match on (never message
 * text). One place, so a new type is added here and nowhere else.
 */
import type { ValidationRule } from '../schemas/validation';

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

/** A call's failure types: what the typed client's SwitchboardCallError carries and the gateway maps, case by case. */
export type CallFailureType = (typeof failureTypes)[keyof typeof failureTypes];

const callFailureTypeSet: ReadonlySet<string> = new Set(Object.values(failureTypes));

export function isCallFailureType(type: string | undefined): type is CallFailureType {
  return type !== undefined && callFailureTypeSet.has(type);
}

/**
 * Every kind of failed attempt, by who names it: the vendor classifier
 * (lib/vendors/classify.ts), the stream and protocol checks
 * (lib/vendors/errors.ts), and the call path. The retry plan decides on these
 * names (lib/routing/retry-plan.ts, `errorTypeClasses`, exhaustive), so a
 * misspelt one does not compile.
 */
export const vendorErrorTypes = [
  // The vendor answered with an error status (lib/vendors/classify.ts).
  'rate_limit_exceeded',
  'insufficient_quota',
  'authentication',
  'account_locked',
  'billing',
  'permission_denied',
  'model_not_found',
  'context_length_exceeded',
  'content_policy_violation',
  'invalid_request',
  'overloaded',
  'server_error',
  'conflict',
  // No usable answer: the connection, the clock or the protocol (lib/vendors/errors.ts).
  'timeout',
  'first_token_timeout',
  'stream_stalled',
  'stream_interrupted',
  'malformed_response',
  'aborted',
  'connection',
  'unknown',
  // The answer could not be read as the structured output asked for.
  'json_parse',
] as const;
export type VendorErrorType = (typeof vendorErrorTypes)[number];

export const callPathErrorTypes = [
  /** No upstream of the entry could be used (all ejected or excluded). */
  'no_upstream',
  /** The second look rejected the answer. */
  'second_look_rejected',
  /** The entry's repairs were spent on answers that failed their checks. */
  'repairs_exhausted',
  /** Our own check of an answer failed (not the vendor's fault). */
  'internal_check',
  /** The attempt activity never reported: timed out, or its worker died. */
  'activity_timeout',
  'activity_failed',
  /** A resumed stream's new answer does not begin with the text its caller already has. */
  'stream_diverged',
] as const;

/** An answer failed one of the route's validation rules (`validation_max_chars`, …). */
export type ValidationErrorType = `validation_${ValidationRule}`;

export type AttemptErrorType = VendorErrorType | (typeof callPathErrorTypes)[number] | ValidationErrorType;
