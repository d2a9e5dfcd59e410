/**
 * The one place that decides what a vendor failure means. Everything else —
 * the attempt activity, the workflow's retry plan, the health registry — asks
 * this module. Works on the shape of errors (status, headers, body), not on
 * `instanceof`, so both SDKs and our own errors classify the same way.
 */
import { isVendorFailure, isVendorProtocolError, type VendorFailureInfo } from './errors';
import { parseRetryAfterMs, readRateLimit, type HeaderSource } from './rate-limit-headers';

interface ErrorBody {
  code?: string;
  type?: string;
  message?: string;
}

function errorBody(error: object): ErrorBody {
  const raw = (error as { error?: unknown }).error;
  if (!raw || typeof raw !== 'object') return {};
  // OpenAI puts { message, type, code } here; Anthropic the whole { type: 'error', error: { type, message } }.
  const inner = (raw as { error?: unknown }).error;
  const source = (inner && typeof inner === 'object' ? inner : raw) as Record<string, unknown>;
  const text = (key: string) => (typeof source[key] === 'string' ? (source[key] as string) : undefined);
  return { code: text('code'), type: text('type'), message: text('message') };
}

const CONTEXT_LENGTH = /context[_ ]length|context window|prompt is too long|maximum context|too many tokens/i;
const CONTENT_POLICY = /content[_ ]policy|content_filter|safety system|flagged/i;
const ACCOUNT_LOCKED = /billing|quota|locked|suspended|deactivated|disabled|payment/i;

/** True when `error` or an error in its `cause` chain (a few levels) has a name matching `pattern`. */
function causedBy(error: unknown, pattern: RegExp): boolean {
  let cause = (error as { cause?: unknown }).cause;
  for (let depth = 0; depth < 5 && cause && typeof cause === 'object'; depth++) {
    if (pattern.test((cause as { name?: unknown }).name as string)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** Classifies any error thrown while calling a vendor. */
export function classifyVendorError(error: unknown, protocol: 'openai' | 'anthropic', nowMs = Date.now()): VendorFailureInfo {
  if (isVendorFailure(error)) return error.info;
  if (isVendorProtocolError(error)) return { outcome: 'retryable', errorType: error.errorType, message: error.message };
  if (!error || typeof error !== 'object') return { outcome: 'retryable', errorType: 'unknown', message: String(error) };

  const name = (error as { name?: string }).name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : undefined;

  if (status === undefined) {
    if (/timeout/i.test(name) || /timed? ?out/i.test(message)) return { outcome: 'retryable', errorType: 'timeout', message };
    // The SDK's own request timeout aborts its fetch; when it does not recognise that abort (seen inside a Temporal
    // activity), it reports "Connection error." caused by an AbortError. A caller's cancellation is "Request was aborted.".
    if (/connection error/i.test(message) && causedBy(error, /^(AbortError|TimeoutError)$/))
      return { outcome: 'retryable', errorType: 'timeout', message: 'Request timed out (the request was aborted by its timeout).' };
    if (/abort/i.test(name)) return { outcome: 'retryable', errorType: 'aborted', message };
    if (/connection/i.test(name) || /ECONNRESET|ECONNREFUSED|socket hang up|fetch failed|terminated|connection error/i.test(message)) {
      return { outcome: 'retryable', errorType: 'connection', message };
    }
    return { outcome: 'retryable', errorType: 'unknown', message };
  }

  const headers = (error as { headers?: HeaderSource }).headers;
  const body = errorBody(error);
  const vendorMessage = body.message ?? message;
  const rateLimit = readRateLimit(protocol, headers, nowMs);
  const base = { status, message: vendorMessage, ...(rateLimit ? { rateLimit } : {}) };
  const said = `${body.code ?? ''} ${body.type ?? ''} ${vendorMessage}`;

  if (status === 429) {
    // OpenAI answers 429 `insufficient_quota` when billing is exhausted: waiting does not help.
    if (body.code === 'insufficient_quota' || body.type === 'insufficient_quota') {
      return { ...base, outcome: 'fatal_upstream', errorType: 'insufficient_quota' };
    }
    const retryAfterMs = parseRetryAfterMs(headers, nowMs);
    return { ...base, outcome: 'rate_limited', errorType: 'rate_limit_exceeded', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (status === 401) return { ...base, outcome: 'fatal_upstream', errorType: ACCOUNT_LOCKED.test(said) ? 'account_locked' : 'authentication' };
  if (status === 402) return { ...base, outcome: 'fatal_upstream', errorType: 'billing' };
  if (status === 403) return { ...base, outcome: 'fatal_upstream', errorType: ACCOUNT_LOCKED.test(said) ? 'account_locked' : 'permission_denied' };
  if (status === 404) return { ...base, outcome: 'caller_fault', errorType: 'model_not_found' };
  if (status === 400 || status === 413 || status === 422) {
    if (body.code === 'context_length_exceeded' || CONTEXT_LENGTH.test(said) || status === 413) {
      return { ...base, outcome: 'caller_fault', errorType: 'context_length_exceeded' };
    }
    if (body.code === 'content_policy_violation' || CONTENT_POLICY.test(said)) {
      return { ...base, outcome: 'caller_fault', errorType: 'content_policy_violation' };
    }
    return { ...base, outcome: 'caller_fault', errorType: 'invalid_request' };
  }
  if (status === 529) return { ...base, outcome: 'retryable', errorType: 'overloaded' };
  if (status === 408 || status === 409 || status >= 500) return { ...base, outcome: 'retryable', errorType: status >= 500 ? 'server_error' : 'conflict' };
  return { ...base, outcome: 'caller_fault', errorType: 'invalid_request' };
}
