/**
 * Per-organisation rate limits as two token buckets (requests and tokens per
 * minute), the model real vendors describe: capacity is the per-minute limit
 * and it refills continuously. Pure math: the caller owns the state and the
 * clock.
 */

export interface BucketState {
  /** Units available now (fractional while refilling). */
  level: number;
  updatedAtMs: number;
}

export interface LimiterState {
  requests: BucketState;
  tokens: BucketState;
}

export interface Limits {
  rpm: number;
  tpm: number;
}

export interface BucketSnapshot {
  limit: number;
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
}

export interface LimitSnapshot {
  requests: BucketSnapshot;
  tokens: BucketSnapshot;
}

export type TakeResult =
  | { allowed: true; state: LimiterState; snapshot: LimitSnapshot }
  | { allowed: false; state: LimiterState; snapshot: LimitSnapshot; scope: 'requests' | 'tokens'; retryAfterMs: number };

const MINUTE_MS = 60_000;

export function initialLimiterState(limits: Limits, nowMs: number): LimiterState {
  return { requests: { level: limits.rpm, updatedAtMs: nowMs }, tokens: { level: limits.tpm, updatedAtMs: nowMs } };
}

function refill(bucket: BucketState, capacity: number, nowMs: number): BucketState {
  const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs);
  return { level: Math.min(capacity, bucket.level + (elapsedMs * capacity) / MINUTE_MS), updatedAtMs: nowMs };
}

function snapshotOf(bucket: BucketState, capacity: number): BucketSnapshot {
  return {
    limit: capacity,
    remaining: Math.max(0, Math.floor(bucket.level)),
    resetMs: Math.ceil(((capacity - bucket.level) * MINUTE_MS) / capacity),
  };
}

/** Time until `bucket` holds `cost` units; Infinity when the cost exceeds the capacity. */
function waitFor(bucket: BucketState, capacity: number, cost: number): number {
  if (cost > capacity) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.ceil(((cost - bucket.level) * MINUTE_MS) / capacity));
}

/** What the headers would say now, without spending anything. */
export function peekLimits(state: LimiterState, limits: Limits, nowMs: number): { state: LimiterState; snapshot: LimitSnapshot } {
  const next = { requests: refill(state.requests, limits.rpm, nowMs), tokens: refill(state.tokens, limits.tpm, nowMs) };
  return { state: next, snapshot: { requests: snapshotOf(next.requests, limits.rpm), tokens: snapshotOf(next.tokens, limits.tpm) } };
}

/** Spends one request and `tokenCost` tokens if both buckets hold enough; otherwise spends nothing. */
export function takeFromLimits(state: LimiterState, limits: Limits, nowMs: number, tokenCost: number): TakeResult {
  const { state: refilled, snapshot } = peekLimits(state, limits, nowMs);
  if (refilled.requests.level < 1) {
    return { allowed: false, state: refilled, snapshot, scope: 'requests', retryAfterMs: waitFor(refilled.requests, limits.rpm, 1) };
  }
  if (refilled.tokens.level < tokenCost) {
    return { allowed: false, state: refilled, snapshot, scope: 'tokens', retryAfterMs: waitFor(refilled.tokens, limits.tpm, tokenCost) };
  }
  const spent: LimiterState = {
    requests: { level: refilled.requests.level - 1, updatedAtMs: nowMs },
    tokens: { level: refilled.tokens.level - tokenCost, updatedAtMs: nowMs },
  };
  return {
    allowed: true,
    state: spent,
    snapshot: { requests: snapshotOf(spent.requests, limits.rpm), tokens: snapshotOf(spent.tokens, limits.tpm) },
  };
}

/** Go-style durations as OpenAI writes them in `x-ratelimit-reset-*`: `120ms`, `1s`, `8.64s`, `6m0s`. */
export function formatResetDuration(ms: number): string {
  const rounded = Math.max(0, Math.ceil(ms));
  if (rounded < 1000) return `${rounded}ms`;
  const totalSeconds = rounded / 1000;
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = Number((totalSeconds - minutes * 60).toFixed(3));
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** Anthropic's `anthropic-ratelimit-*-reset`: RFC 3339, whole seconds, rounded up. */
export function formatResetInstant(nowMs: number, resetMs: number): string {
  const at = Math.ceil((nowMs + resetMs) / 1000) * 1000;
  return new Date(at).toISOString().replace('.000Z', 'Z');
}
