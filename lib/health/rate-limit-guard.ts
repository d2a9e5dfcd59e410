import type { BreakerState, HealthPolicy, TripSignal } from '../../schemas/health';
import { type ById, lookup } from '../upstreams/selection';

/** True when the breaker is open because of a rate-limit-class trip. */
export function isRateLimitEjected(breaker: BreakerState | undefined): boolean {
  return breaker?.state === 'open' && breaker.cause === 'rate_limit_persistent';
}

/** True for trips the guard applies to: being rate-limited is the vendor's flow control, not a sick upstream. */
export function isRateLimitClass(signal: Pick<TripSignal, 'kind'>): boolean {
  return signal.kind === 'rate_limit_persistent';
}

/**
 * The guard: may `candidate` be opened for a rate-limit-class trip? No when,
 * counting it, rate-limit-class ejections would hold more than
 * `maxRateLimitEjectionShare` of the pool, or when no other upstream of the
 * pool would be left usable (closed, half-open or forced_closed). A pool of
 * one is therefore never emptied by 429s. Breakers missing from `breakers`
 * are closed. A registry checks this before signalling such a trip; two pods
 * deciding at once may both pass, so the share is a bound on intent, not a lock.
 */
export function mayEjectForRateLimit(
  poolIds: readonly string[],
  breakers: ById<BreakerState>,
  candidate: string,
  policy: Pick<HealthPolicy, 'maxRateLimitEjectionShare'>,
): boolean {
  const pool = poolIds.includes(candidate) ? poolIds : [...poolIds, candidate];
  const others = pool.filter((id) => id !== candidate);
  const ejected = others.filter((id) => isRateLimitEjected(lookup(breakers, id))).length + 1;
  if (ejected / pool.length > policy.maxRateLimitEjectionShare) return false;
  return others.some((id) => isUsable(lookup(breakers, id)));
}

function isUsable(breaker: BreakerState | undefined): boolean {
  const state = breaker?.state ?? 'closed';
  return state === 'closed' || state === 'half_open' || state === 'forced_closed';
}
