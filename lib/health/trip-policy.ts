import type { CallEvent } from '../../schemas/call-event';
import type { BreakerPolicy, BreakerState, HealthEvidence, HealthPolicy, RecentError, TripKind, TripSignal, UpstreamHealth } from '../../schemas/health';
import { isNeutralOutcome } from './fold';

/**
 * Decides whether a breaker should open, after `latestEvent` was
 * folded into `summary` (omit it for a periodic check). First rule that holds
 * wins, in this order:
 * 1. `fatal`: the latest event is `fatal_upstream` (401/403, billing, locked);
 * 2. `consecutive_failures`: at least `consecutiveFailures` in a row;
 * 3. `failure_rate`: failures / calls ≥ `failureRateThreshold`, with calls ≥ `minCallsForRate`;
 * 4. `slow_calls`: slow calls / calls ≥ `slowCallRateThreshold`, with calls ≥ `minCallsForRate`;
 * 5. `rate_limit_persistent`: at least `rateLimitPersistCount` 429 strikes
 *    (a single 429 only cools the upstream down until the vendor's reset).
 * A neutral latest event (caller_fault, invalid_output) never trips: it
 * changed no count. Returns null when nothing trips. A `fatal` signal is for
 * the upstream's own (account-level) breaker (`scope` `upstream`); the others
 * for the breaker of the model the summary is about (`scope` `model`).
 */
export function evaluateTrip(summary: UpstreamHealth, policy: HealthPolicy, now: number, latestEvent?: CallEvent): TripSignal | null {
  if (latestEvent && isNeutralOutcome(latestEvent.outcome)) return null;
  const evidenceAt = latestEvent?.at ?? summary.lastEventAt ?? now;
  const model = latestEvent?.model ?? summary.model;
  // Account faults eject the whole upstream; everything else only the model it happened on.
  const signal = (kind: TripKind, detail: string): TripSignal => ({
    upstream: summary.upstream,
    kind,
    detail,
    evidence: evidenceOf(summary),
    evidenceAt,
    at: now,
    ...(model !== undefined ? { model } : {}),
    scope: kind === 'fatal' || model === undefined ? 'upstream' : 'model',
  });

  // A fatal event replayed from long ago says nothing about the credential now.
  if (latestEvent?.outcome === 'fatal_upstream' && latestEvent.at > now - policy.windowMs) {
    return signal('fatal', `fatal error: ${describeError(latestEvent)}`);
  }
  if (summary.consecutiveFailures >= policy.consecutiveFailures) {
    return signal('consecutive_failures', `${summary.consecutiveFailures} consecutive failures (last: ${describeLast(summary.recentErrors)})`);
  }
  const rated = summary.calls >= policy.minCallsForRate;
  if (rated && summary.failureRate >= policy.failureRateThreshold) {
    return signal(
      'failure_rate',
      `${summary.failures} of ${summary.calls} calls failed in the window (${percent(summary.failureRate)} ≥ ${percent(policy.failureRateThreshold)})`,
    );
  }
  if (rated && summary.slowCallRate >= policy.slowCallRateThreshold) {
    return signal(
      'slow_calls',
      `${summary.slowCalls} of ${summary.calls} calls were slow in the window (${percent(summary.slowCallRate)} ≥ ${percent(policy.slowCallRateThreshold)})`,
    );
  }
  if (summary.rateLimitStrikes >= policy.rateLimitPersistCount) {
    return signal('rate_limit_persistent', `still rate-limited after ${summary.rateLimitStrikes} cooldowns`);
  }
  return null;
}

/** The window's numbers as breaker evidence. */
export function evidenceOf(summary: UpstreamHealth): HealthEvidence {
  return {
    consecutiveFailures: summary.consecutiveFailures,
    calls: summary.calls,
    failures: summary.failures,
    failureRate: summary.failureRate,
    slowCalls: summary.slowCalls,
    rateLimited: summary.rateLimited,
    recentErrors: [...summary.recentErrors],
    ...(summary.rateLimitedUntil !== undefined && { rateLimitedUntil: summary.rateLimitedUntil }),
  };
}

/** Evidence for a transition no health data drove (timer, operator). */
export function emptyEvidence(): HealthEvidence {
  return { consecutiveFailures: 0, calls: 0, failures: 0, failureRate: 0, slowCalls: 0, rateLimited: 0, recentErrors: [] };
}

/**
 * Whether a registry should send `signal` to the supervisor, given its local
 * copy of the breaker: only a closed (or absent) or half-open breaker reacts to
 * trips, and evidence older than the breaker's current state is stale. Saves
 * a signal per event while the breaker is already open; the supervisor applies
 * the same rule, so a race only costs a no-op signal.
 */
export function isTripActionable(breaker: BreakerState | undefined, signal: TripSignal): boolean {
  if (!breaker) return true;
  if (breaker.state !== 'closed' && breaker.state !== 'half_open') return false;
  return signal.evidenceAt >= breaker.since;
}

/**
 * Cooldown of the `consecutiveTrips`-th trip in a row (1 for the first):
 * base × multiplier^(trips − 1), capped at `maxCooldownMs`, then spread by
 * ± `jitterRatio` using `random01` (0..1). For a fixed `random01` it never
 * decreases as trips grow, and it never exceeds max × (1 + jitterRatio).
 */
export function cooldownForTrip(consecutiveTrips: number, policy: BreakerPolicy, random01: number): number {
  const trips = Math.max(1, Math.floor(consecutiveTrips));
  // Past the cap the power only overflows; stop growing once it is reached.
  const raw = policy.baseCooldownMs * Math.pow(policy.cooldownMultiplier, Math.min(trips - 1, 1_000));
  const capped = Math.min(policy.maxCooldownMs, Number.isFinite(raw) ? raw : policy.maxCooldownMs);
  const r = Math.min(1, Math.max(0, random01));
  // floor, not round: rounding up could pass max × (1 + jitterRatio).
  return Math.floor(capped * (1 + policy.jitterRatio * (2 * r - 1)));
}

function describeError(event: Pick<CallEvent, 'status' | 'errorType' | 'errorMessage'>): string {
  const parts = [event.status, event.errorType, event.errorMessage?.slice(0, 120)].filter((p) => p !== undefined && p !== '');
  return parts.length ? parts.join(' ') : 'unknown error';
}

function describeLast(errors: readonly RecentError[]): string {
  const last = errors.at(-1);
  return last ? describeError({ status: last.status, errorType: last.errorType, errorMessage: last.message }) : 'no detail';
}

function percent(rate: number): string {
  return `${Math.round(rate * 100)}%`;
}
