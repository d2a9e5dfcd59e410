/**
 * Anthropic's error responses: `{ type: 'error', error: { type, message } }`
 * with the statuses the real API uses, including 529 `overloaded_error` and
 * the 402 billing error.
 */
import { renderServerError, type ErrorResponse, type VendorError } from '../vendor-errors';

function body(status: number, type: string, message: string): ErrorResponse {
  return { status, contentType: 'application/json', body: JSON.stringify({ type: 'error', error: { type, message } }) };
}

function serverError(status: number, message: string | undefined): ErrorResponse {
  if (status === 529) return body(529, 'overloaded_error', message ?? 'Overloaded');
  if (status === 504) return body(504, 'timeout_error', message ?? 'Request timed out');
  return body(status, 'api_error', message ?? 'Internal server error');
}

function anthropicAccountLocked(error: Extract<VendorError, { kind: 'account_locked' }>): ErrorResponse {
  switch (error.reason) {
    case 'invalid_key':
      return body(401, 'authentication_error', 'invalid x-api-key');
    case 'deactivated':
      return body(401, 'authentication_error', 'This organization has been disabled.');
    case 'billing':
      return body(
        402,
        'billing_error',
        'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
      );
    case 'forbidden':
      return body(403, 'permission_error', 'Your API key does not have permission to use the specified resource.');
  }
}

export function renderAnthropicError(error: VendorError): ErrorResponse {
  switch (error.kind) {
    case 'missing_key':
      return body(401, 'authentication_error', 'x-api-key header is required');
    case 'invalid_key':
      return body(401, 'authentication_error', 'invalid x-api-key');
    case 'missing_version':
      return body(400, 'invalid_request_error', 'anthropic-version: header is required');
    case 'invalid_body':
      return body(400, 'invalid_request_error', error.message);
    case 'unparseable_body':
      return body(400, 'invalid_request_error', 'There was an error parsing the body of your request. Please check that your request body is valid JSON.');
    case 'body_too_large':
      return body(413, 'request_too_large', `Request exceeds the maximum allowed number of bytes (${error.limitBytes}).`);
    case 'route_not_found':
      return body(404, 'not_found_error', `Not Found: ${error.method} ${error.path}`);
    case 'model_not_found':
      return body(404, 'not_found_error', `model: ${error.model}`);
    case 'rate_limited':
      return body(
        429,
        'rate_limit_error',
        `This request would exceed the rate limit for your organization (${error.organisation}) of ${error.limit} ${error.scope === 'requests' ? 'requests' : 'input tokens'} per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.`,
      );
    case 'server':
      return renderServerError(error, serverError);
    case 'account_locked':
      return anthropicAccountLocked(error);
    case 'context_length':
      return body(400, 'invalid_request_error', `prompt is too long: ${error.promptTokens} tokens > ${error.contextTokens} maximum`);
    case 'content_policy':
      return body(400, 'invalid_request_error', error.message ?? 'Output blocked by content filtering policy');
  }
}

/** The `event: error` payload Anthropic sends when a stream fails after it started. */
export function anthropicStreamError(status: number): string {
  return status === 529
    ? JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })
    : JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'Internal server error' } });
}
