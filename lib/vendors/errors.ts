import type { AttemptOutcome, RateLimitSnapshot } from '../../schemas/call-event';

/** What the classifier decided about one failed vendor request. */
export interface VendorFailureInfo {
  outcome: Exclude<AttemptOutcome, 'success'>;
  /** Stable machine-readable kind, e.g. `rate_limit_exceeded`, `context_length_exceeded`, `timeout`. */
  errorType: string;
  /** The vendor's message (never a secret: SDK errors carry no request headers). */
  message: string;
  status?: number;
  retryAfterMs?: number;
  rateLimit?: RateLimitSnapshot;
}

/** A vendor request that failed, classified. Thrown by the adapters' callers, carried across activities as details. */
export class VendorFailure extends Error {
  override readonly name = 'VendorFailure';
  constructor(readonly info: VendorFailureInfo, options?: { cause?: unknown }) {
    super(`${info.outcome}: ${info.errorType}${info.status ? ` (${info.status})` : ''}: ${info.message}`, options);
  }
}

export function isVendorFailure(error: unknown): error is VendorFailure {
  return error instanceof Error && error.name === 'VendorFailure' && 'info' in error;
}

/** The vendor's answer could not be used: a stream that ended early, a body that is not the protocol. */
export class VendorProtocolError extends Error {
  override readonly name = 'VendorProtocolError';
  constructor(readonly errorType: 'stream_interrupted' | 'malformed_response' | 'stream_stalled' | 'first_token_timeout', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isVendorProtocolError(error: unknown): error is VendorProtocolError {
  return error instanceof Error && error.name === 'VendorProtocolError' && 'errorType' in error;
}
