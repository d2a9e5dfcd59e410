/**
 * A failed call → an HTTP error: the caller's fault is 400, every upstream
 * exhausted is 503, the deadline 504, our own failure after the vendor answered
 * 500, anything else 502 — each with the
 * attempt summary (provider, upstream, outcome, status; no vendor messages,
 * which may quote the prompt).
 */
import { failureTypes, type CallFailureType } from '../../contracts/failures';
import type { SwitchboardCallError } from '../../lib/client/errors';
import { GatewayError } from './http-errors';

/** Every call failure type as an HTTP status and OpenAI error type: a new failure type does not compile until it is here. */
const httpOfFailure: Record<CallFailureType, { status: number; type: string }> = {
  [failureTypes.invalidRequest]: { status: 400, type: 'invalid_request_error' },
  [failureTypes.contextLength]: { status: 400, type: 'invalid_request_error' },
  [failureTypes.contentPolicy]: { status: 400, type: 'invalid_request_error' },
  [failureTypes.exhausted]: { status: 503, type: 'service_unavailable' },
  // Ours: the vendor answered, our own code failed; retrying elsewhere would not help.
  [failureTypes.internal]: { status: 500, type: 'server_error' },
  [failureTypes.deadline]: { status: 504, type: 'timeout' },
  [failureTypes.attemptFailed]: { status: 502, type: 'upstream_error' },
  [failureTypes.invalidOutput]: { status: 502, type: 'upstream_error' },
  [failureTypes.workflowFailed]: { status: 502, type: 'upstream_error' },
};

export function gatewayErrorOfCall(error: SwitchboardCallError, callId: string): GatewayError {
  const detail = {
    switchboard: {
      call_id: callId,
      failure_type: error.type,
      attempts: error.attempts.map((a) => ({
        attempt: a.attempt,
        provider: a.provider,
        upstream: a.upstream ?? null,
        model: a.model,
        outcome: a.outcome,
        status: a.status ?? null,
        error_type: a.errorType ?? null,
      })),
    },
  };
  const { status, type } = httpOfFailure[error.type];
  const message =
    error.type === failureTypes.exhausted ? `every upstream of the route failed (${error.attempts.length} attempts): ${error.message}` : error.message;
  return new GatewayError(status, type, message, { code: error.type, headers: { 'x-switchboard-call-id': callId }, detail });
}

export function deadlineError(callId: string, deadlineMs: number): GatewayError {
  return new GatewayError(504, 'timeout', `no answer within the gateway deadline of ${deadlineMs} ms`, {
    code: failureTypes.deadline,
    headers: { 'x-switchboard-call-id': callId },
  });
}
