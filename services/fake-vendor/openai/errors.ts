/**
 * OpenAI's error responses: `{ error: { message, type, param, code } }` with
 * the statuses and codes the real API uses, so the SDK raises the same error
 * classes it would in production.
 */
import { renderServerError, type ErrorResponse, type VendorError } from '../vendor-errors';

function body(status: number, message: string, type: string, code: string | null, param: string | null = null): ErrorResponse {
  return { status, contentType: 'application/json', body: JSON.stringify({ error: { message, type, param, code } }) };
}

/** How OpenAI quotes a wrong key back: first three and last four characters. */
function maskKeyLikeOpenAi(key: string): string {
  if (key.length <= 8) return '*'.repeat(key.length);
  return `${key.slice(0, 3)}${'*'.repeat(Math.min(20, key.length - 7))}${key.slice(-4)}`;
}

function openAiAccountLocked(error: Extract<VendorError, { kind: 'account_locked' }>): ErrorResponse {
  switch (error.reason) {
    case 'invalid_key':
      return body(
        401,
        'Incorrect API key provided: sk-****. You can find your API key at https://platform.openai.com/account/api-keys.',
        'invalid_request_error',
        'invalid_api_key',
      );
    case 'deactivated':
      return body(
        401,
        'This key is associated with a deactivated account. If you feel this is an error, contact us through our help center at help.openai.com.',
        'invalid_request_error',
        'account_deactivated',
      );
    case 'billing':
      // OpenAI reports an exhausted quota as a 429: retrying never helps.
      return body(
        429,
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        'insufficient_quota',
        'insufficient_quota',
      );
    case 'forbidden':
      return body(
        403,
        `Project does not have access to model \`${error.model}\` in organization ${error.organisation}.`,
        'invalid_request_error',
        'model_not_found',
      );
  }
}

export function renderOpenAiError(error: VendorError): ErrorResponse {
  switch (error.kind) {
    case 'missing_key':
      return body(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
        null,
      );
    case 'invalid_key':
      return body(
        401,
        `Incorrect API key provided: ${maskKeyLikeOpenAi(error.key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        'invalid_request_error',
        'invalid_api_key',
      );
    case 'missing_version':
    case 'invalid_body':
      return body(
        400,
        error.kind === 'invalid_body' ? error.message : 'Invalid request.',
        'invalid_request_error',
        null,
        error.kind === 'invalid_body' ? (error.param ?? null) : null,
      );
    case 'unparseable_body':
      return body(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        'invalid_request_error',
        null,
      );
    case 'body_too_large':
      return body(413, `Request body too large. The maximum size is ${error.limitBytes} bytes.`, 'invalid_request_error', null);
    case 'route_not_found':
      return body(404, `Invalid URL (${error.method} ${error.path})`, 'invalid_request_error', null);
    case 'model_not_found':
      return body(404, `The model \`${error.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
    case 'rate_limited': {
      const unit = error.scope === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
      const wait = error.retryAfterSeconds === undefined ? '' : ` Please try again in ${error.retryAfterSeconds}s.`;
      return body(
        429,
        `Rate limit reached for ${error.model} in organization ${error.organisation} on ${unit}: Limit ${error.limit}, Requested ${error.requested}.${wait} Visit https://platform.openai.com/account/rate-limits to learn more.`,
        error.scope,
        'rate_limit_exceeded',
      );
    }
    case 'server':
      return renderServerError(error, (status, message) =>
        status === 503
          ? body(503, message ?? 'The engine is currently overloaded, please try again later.', 'server_error', null)
          : body(status, message ?? 'The server had an error while processing your request. Sorry about that!', 'server_error', null),
      );
    case 'account_locked':
      return openAiAccountLocked(error);
    case 'context_length':
      return body(
        400,
        `This model's maximum context length is ${error.contextTokens} tokens. However, your messages resulted in ${error.promptTokens} tokens. Please reduce the length of the messages.`,
        'invalid_request_error',
        'context_length_exceeded',
        'messages',
      );
    case 'content_policy':
      return body(
        400,
        error.message ?? 'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
        'invalid_request_error',
        'content_policy_violation',
        'prompt',
      );
  }
}

/** The `data:` line OpenAI sends when a stream fails after it started. */
export function openAiStreamError(status: number): string {
  const message =
    status === 529 || status === 503
      ? 'The engine is currently overloaded, please try again later.'
      : 'The server had an error while processing your request. Sorry about that!';
  return JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } });
}
