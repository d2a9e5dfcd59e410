/**
 * Upstream health and circuit breakers, pure: no I/O, no clock, no randomness
 * of its own (time and random numbers come in as arguments), so workflows may
 * import it too. See docs/breakers.md.
 */
export {
  clearUpstreamHealth,
  emptyHealth,
  emptyUpstreamHealth,
  foldCallEvent,
  foldUpstreamEvent,
  healthByUpstream,
  type HealthState,
  isBreakerFailure,
  isNeutralOutcome,
  isSlowCall,
  probeOutcomeOf,
  upstreamHealth,
  type UpstreamHealthState,
} from './fold';
export { headroomAt, type ObservedRateLimit, rateLimitedUntilAfter } from './rate-limit';
export { cooldownForTrip, emptyEvidence, evaluateTrip, evidenceOf, isTripActionable } from './trip-policy';
export { type BreakerStep, initialBreakerState, transitionBreaker } from './breaker-machine';
export { breakerKeyOf, breakerKeyOfSignal, breakerKeyOfState, effectiveBreaker, isModelKey, modelOfKey, modelToken, upstreamOfKey } from './breaker-levels';
export {
  type ById,
  isNoUpstream,
  isPoolExhausted,
  type NoUpstream,
  scoreOf,
  type Selection,
  type SelectionCandidate,
  type SelectionInput,
  selectUpstream,
  type UpstreamChoice,
} from '../upstreams/selection';
export { isRateLimitClass, isRateLimitEjected, mayEjectForRateLimit } from './rate-limit-guard';
export { bucketCount, type RollingWindow } from './window';
