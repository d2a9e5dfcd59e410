import type { CallEvent, RateLimitSnapshot } from '../../schemas/call-event';
import type { HealthPolicy } from '../../schemas/health';

/** The vendor's rate-limit headers of one response, and when they were seen. */
export interface ObservedRateLimit {
  readonly snapshot: RateLimitSnapshot;
  readonly at: number;
}

/**
 * When the vendor will take calls again after `event`, or undefined when it
 * said nothing that rules calls out. A 429 honours `retry-after` first, then
 * the reset of whichever limit is exhausted, then `defaultRetryAfterMs`. Any
 * other response whose headers show a limit at zero also starts a cooldown:
 * the next call would be a 429, so do not spend it.
 */
export function rateLimitedUntilAfter(event: CallEvent, policy: Pick<HealthPolicy, 'defaultRetryAfterMs'>): number | undefined {
  const resetMs = exhaustedResetMs(event.rateLimit);
  if (event.outcome === 'rate_limited') {
    return event.at + (event.retryAfterMs ?? resetMs ?? policy.defaultRetryAfterMs);
  }
  return resetMs === undefined ? undefined : event.at + resetMs;
}

/** The longest reset among limits with nothing remaining; undefined when none is exhausted or its reset is unknown. */
function exhaustedResetMs(snapshot: RateLimitSnapshot | undefined): number | undefined {
  if (!snapshot) return undefined;
  const resets: number[] = [];
  if (snapshot.remainingRequests === 0 && snapshot.resetRequestsMs !== undefined) resets.push(snapshot.resetRequestsMs);
  if (snapshot.remainingTokens === 0 && snapshot.resetTokensMs !== undefined) resets.push(snapshot.resetTokensMs);
  return resets.length ? Math.max(...resets) : undefined;
}

/** True when `snapshot` says anything about remaining capacity. */
export function hasHeadroomData(snapshot: RateLimitSnapshot | undefined): snapshot is RateLimitSnapshot {
  if (!snapshot) return false;
  return ratioOf(snapshot.remainingRequests, snapshot.limitRequests) !== undefined || ratioOf(snapshot.remainingTokens, snapshot.limitTokens) !== undefined;
}

/**
 * Headroom 0..1 at `now`: the tighter of remaining/limit for requests and
 * tokens. A dimension whose reset has passed counts as full again, since the
 * vendor's limit has refilled. Undefined when the vendor never reported one.
 */
export function headroomAt(observed: ObservedRateLimit | undefined, now: number): number | undefined {
  if (!observed) return undefined;
  const { snapshot, at } = observed;
  const ratios = [
    refilledRatio(ratioOf(snapshot.remainingRequests, snapshot.limitRequests), at, snapshot.resetRequestsMs, now),
    refilledRatio(ratioOf(snapshot.remainingTokens, snapshot.limitTokens), at, snapshot.resetTokensMs, now),
  ].filter((r): r is number => r !== undefined);
  return ratios.length ? Math.min(...ratios) : undefined;
}

function ratioOf(remaining: number | undefined, limit: number | undefined): number | undefined {
  if (remaining === undefined || limit === undefined || limit <= 0) return undefined;
  return Math.min(1, Math.max(0, remaining / limit));
}

function refilledRatio(ratio: number | undefined, at: number, resetMs: number | undefined, now: number): number | undefined {
  if (ratio === undefined) return undefined;
  return resetMs !== undefined && now >= at + resetMs ? 1 : ratio;
}
