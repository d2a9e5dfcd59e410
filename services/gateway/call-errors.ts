/**
 * A failed call → an HTTP error: the caller's fault is 400, every upstream
 * exhausted is 503, the deadline 504, our own failure after the vendor answered
 * 500, anything else 502 — each with the
 * attempt summary (provider, upstream, outcome, status; no vendor messages,
 * which may quote the prompt).
 */
import { failureTypes } from '../../contracts/failures';
import type { SwitchboardCallError } from '../../lib/client/errors';
import { GatewayError } from './http-errors';

const callerFault: ReadonlySet<string> = new Set([failureTypes.invalidRequest, failureTypes.contextLength, failureTypes.contentPolicy]);

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
  const headers = { 'x-switchboard-call-id': callId };
  if (callerFault.has(error.type)) return new GatewayError(400, 'invalid_request_error', error.message, { code: error.type, headers, detail });
  if (error.type === failureTypes.exhausted) {
    return new GatewayError(503, 'service_unavailable', `every upstream of the route failed (${error.attempts.length} attempts): ${error.message}`, {
      code: error.type,
      headers,
      detail,
    });
  }
  // Ours: the vendor answered, our own code failed; retrying elsewhere would not help.
  if (error.type === failureTypes.internal) return new GatewayError(500, 'server_error', error.message, { code: error.type, headers, detail });
  if (error.type === failureTypes.deadline) return new GatewayError(504, 'timeout', error.message, { code: error.type, headers, detail });
  return new GatewayError(502, 'upstream_error', error.message, { code: error.type, headers, detail });
}

export function deadlineError(callId: string, deadlineMs: number): GatewayError {
  return new GatewayError(504, 'timeout', `no answer within the gateway deadline of ${deadlineMs} ms`, {
    code: failureTypes.deadline,
    headers: { 'x-switchboard-call-id': callId },
  });
}
