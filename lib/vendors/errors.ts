import type { AttemptErrorType, VendorErrorType } from '../../contracts/failures';
import type { AttemptOutcome, RateLimitSnapshot } from '../../schemas/call-event';

/** What the classifier decided about one failed vendor request. */
export interface VendorFailureInfo {
  outcome: Exclude<AttemptOutcome, 'success'>;
  /** Stable machine-readable kind, e.g. `rate_limit_exceeded`, `context_length_exceeded`, `timeout` (contracts/failures.ts). */
  errorType: AttemptErrorType;
  /** The vendor's message (never a secret: SDK errors carry no request headers). */
  message: string;
  status?: number;
  retryAfterMs?: number;
  rateLimit?: RateLimitSnapshot;
}

/** A vendor request that failed, classified. Thrown by the adapters' callers, carried across activities as details. */
export class VendorFailure extends Error {
  override readonly name = 'VendorFailure';
  constructor(
    readonly info: VendorFailureInfo,
    options?: { cause?: unknown },
  ) {
    super(`${info.outcome}: ${info.errorType}${info.status ? ` (${info.status})` : ''}: ${info.message}`, options);
  }
}

export function isVendorFailure(error: unknown): error is VendorFailure {
  return error instanceof Error && error.name === 'VendorFailure' && 'info' in error;
}

/** The vendor's answer could not be used: a stream that ended early, a body that is not the protocol. */
export class VendorProtocolError extends Error {
  override readonly name = 'VendorProtocolError';
  constructor(
    readonly errorType: Extract<VendorErrorType, 'stream_interrupted' | 'malformed_response' | 'stream_stalled' | 'first_token_timeout' | 'timeout'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isVendorProtocolError(error: unknown): error is VendorProtocolError {
  return error instanceof Error && error.name === 'VendorProtocolError' && 'errorType' in error;
}

/**
 * Runs one vendor request and names its timeout: the SDKs' own request
 * timeout is not always reported as one (inside a Temporal activity the
 * openai SDK surfaces it as "Connection error."), so a request that failed
 * without an HTTP status after its whole `timeoutMs`, and was not cancelled
 * by the caller, is a `timeout` — the silent-upstream class of the retry plan.
 */
export async function namingTimeouts<T>(request: { timeoutMs: number; signal?: AbortSignal }, call: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await call();
  } catch (error) {
    const hasStatus = typeof (error as { status?: unknown } | null)?.status === 'number';
    const elapsedMs = performance.now() - started;
    if (!request.signal?.aborted && !hasStatus && !isVendorProtocolError(error) && !isVendorFailure(error) && elapsedMs >= request.timeoutMs - TIMER_SLACK_MS) {
      throw new VendorProtocolError('timeout', `no response within ${request.timeoutMs} ms`, { cause: error });
    }
    throw error;
  }
}

/** Node timers fire at their time or later; this covers rounding of the measured elapsed time. */
const TIMER_SLACK_MS = 5;
