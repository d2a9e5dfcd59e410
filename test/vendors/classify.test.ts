import { classifyVendorError } from '../../lib/vendors/classify';
import { VendorProtocolError } from '../../lib/vendors/errors';
import { parseRetryAfterMs, parseVendorDurationMs, readRateLimit } from '../../lib/vendors/rate-limit-headers';

/** The shape both SDKs' APIError has: status, headers, error body. */
function apiError(status: number, body: object, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`${status} error`), { status, headers: new Headers(headers), error: body });
}

const NOW = Date.parse('2026-11-22T12:00:00Z');

describe('classifyVendorError', () => {
  it.each([
    ['500', apiError(500, { error: { message: 'oops', type: 'server_error' } }), 'retryable', 'server_error'],
    ['503', apiError(503, {}), 'retryable', 'server_error'],
    ['529 overloaded', apiError(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }), 'retryable', 'overloaded'],
    ['429', apiError(429, { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } }), 'rate_limited', 'rate_limit_exceeded'],
    [
      '429 insufficient_quota',
      apiError(429, { error: { message: 'You exceeded your current quota', code: 'insufficient_quota', type: 'insufficient_quota' } }),
      'fatal_upstream',
      'insufficient_quota',
    ],
    ['401', apiError(401, { error: { message: 'Incorrect API key', code: 'invalid_api_key' } }), 'fatal_upstream', 'authentication'],
    ['401 deactivated', apiError(401, { error: { message: 'This account has been deactivated' } }), 'fatal_upstream', 'account_locked'],
    ['402 billing', apiError(402, { type: 'error', error: { type: 'billing_error', message: 'credit balance too low' } }), 'fatal_upstream', 'billing'],
    ['403', apiError(403, { type: 'error', error: { type: 'permission_error', message: 'not allowed' } }), 'fatal_upstream', 'permission_denied'],
    [
      '400 context',
      apiError(400, { error: { message: "This model's maximum context length is 8192 tokens", code: 'context_length_exceeded' } }),
      'caller_fault',
      'context_length_exceeded',
    ],
    [
      '400 anthropic too long',
      apiError(400, { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 250000 tokens > 200000 maximum' } }),
      'caller_fault',
      'context_length_exceeded',
    ],
    [
      '400 content policy',
      apiError(400, { error: { message: 'Your request was rejected by our safety system', code: 'content_policy_violation' } }),
      'caller_fault',
      'content_policy_violation',
    ],
    ['400 invalid', apiError(400, { error: { message: 'temperature must be <= 2' } }), 'caller_fault', 'invalid_request'],
    ['404 model', apiError(404, { error: { message: 'The model `gpt-9` does not exist', code: 'model_not_found' } }), 'caller_fault', 'model_not_found'],
  ])('%s', (_name, error, outcome, errorType) => {
    expect(classifyVendorError(error, 'openai', NOW)).toMatchObject({ outcome, errorType });
  });

  it('reads retry-after and the rate-limit headers of a 429', () => {
    const info = classifyVendorError(
      apiError(
        429,
        { error: { message: 'slow down' } },
        { 'retry-after': '2', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-limit-requests': '500', 'x-ratelimit-reset-requests': '1m30s' },
      ),
      'openai',
      NOW,
    );
    expect(info).toMatchObject({
      outcome: 'rate_limited',
      retryAfterMs: 2_000,
      rateLimit: { remainingRequests: 0, limitRequests: 500, resetRequestsMs: 90_000 },
    });
  });

  it.each([
    [Object.assign(new Error('Request timed out.'), { name: 'APIConnectionTimeoutError' }), 'timeout'],
    [Object.assign(new Error('Connection error.'), { name: 'APIConnectionError' }), 'connection'],
    // What the openai SDK throws inside an activity when its own timeout aborted the fetch.
    [new Error('Connection error.', { cause: Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }) }), 'timeout'],
    [new Error('Connection error.', { cause: new Error('read ECONNRESET') }), 'connection'],
    [new Error('socket hang up'), 'connection'],
    [new VendorProtocolError('stream_interrupted', 'ended early'), 'stream_interrupted'],
    [new VendorProtocolError('malformed_response', 'bad chunk'), 'malformed_response'],
  ])('connection-level failure %s is retryable', (error, errorType) => {
    expect(classifyVendorError(error, 'anthropic', NOW)).toMatchObject({ outcome: 'retryable', errorType });
  });
});

describe('rate-limit headers', () => {
  it.each([
    ['1s', 1_000],
    ['6m0s', 360_000],
    ['120ms', 120],
    ['1h2m3.5s', 3_723_500],
    ['0.5', 500],
    ['soon', undefined],
  ])('parses OpenAI duration %s', (text, ms) => {
    expect(parseVendorDurationMs(text)).toBe(ms);
  });

  it('reads Anthropic RFC 3339 resets relative to now', () => {
    const headers = new Headers({
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': '2026-11-22T12:00:30Z',
      'anthropic-ratelimit-tokens-remaining': '1000',
    });
    expect(readRateLimit('anthropic', headers, NOW)).toEqual({ limitRequests: 50, remainingRequests: 49, resetRequestsMs: 30_000, remainingTokens: 1000 });
  });

  it('prefers retry-after-ms, accepts an HTTP date', () => {
    expect(parseRetryAfterMs(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), NOW)).toBe(1_500);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'Sun, 22 Nov 2026 12:00:05 GMT' }), NOW)).toBe(5_000);
    expect(parseRetryAfterMs(new Headers({}), NOW)).toBeUndefined();
  });
});
