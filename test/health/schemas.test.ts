import { BreakerEvent, BreakerPolicy, BreakerState, HealthPolicy, SelectionPolicy, TripSignal, UpstreamHealth } from '../../schemas/health';
import { emptyHealth, evaluateTrip, foldCallEvent, initialBreakerState, transitionBreaker, upstreamHealth } from '../../lib/health';
import { at, breakerPolicy, healthPolicy, t0 } from './call-events';

describe('health schemas', () => {
  it('fill every threshold with its documented default', () => {
    expect(HealthPolicy.parse({})).toEqual({
      windowMs: 60_000,
      bucketMs: 5_000,
      consecutiveFailures: 3,
      failureRateThreshold: 0.5,
      minCallsForRate: 10,
      slowCallMs: 30_000,
      slowTtftMs: 10_000,
      slowCallRateThreshold: 0.8,
      latencyEwmaAlpha: 0.2,
      rateLimitPersistCount: 5,
      defaultRetryAfterMs: 1_000,
      maxRateLimitEjectionShare: 0.5,
      recentErrorsKept: 5,
    });
    expect(BreakerPolicy.parse({})).toEqual({
      baseCooldownMs: 5_000,
      maxCooldownMs: 20_000,
      cooldownMultiplier: 2,
      jitterRatio: 0.2,
      halfOpenProbes: 1,
      halfOpenMaxConcurrent: 1,
      supervisorProbes: true,
      halfOpenTimeoutMs: 30_000,
      stableAfterMs: 600_000,
    });
    expect(SelectionPolicy.parse({})).toEqual({ headroomComfort: 0.2, minFactor: 0.01, latencyFloorMs: 100 });
  });

  it.each([
    [HealthPolicy, { windowMs: 1_000, bucketMs: 5_000 }, 'windowMs'],
    [HealthPolicy, { windowMs: 3_600_000, bucketMs: 1 }, 'bucketMs'],
    [HealthPolicy, { failureRateThreshold: 1.5 }, 'failureRateThreshold'],
    [BreakerPolicy, { baseCooldownMs: 10_000, maxCooldownMs: 5_000 }, 'maxCooldownMs'],
    [BreakerPolicy, { jitterRatio: 1 }, 'jitterRatio'],
    [BreakerPolicy, { halfOpenTimeoutMs: 120_000 }, 'halfOpenTimeoutMs'],
  ] as const)('reject a bad value and name the field (%#)', (schema, value, field) => {
    const result = schema.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  it('describe what the pure modules produce (so a subscriber can parse it)', () => {
    const events = [at(0, 'retryable', { errorType: 'overloaded', errorMessage: 'busy' }), at(10, 'retryable'), at(20, 'fatal_upstream')];
    const state = events.reduce((s, e) => foldCallEvent(s, e, healthPolicy), emptyHealth());
    const summary = upstreamHealth(state, 'openai/org-a/gpt-test', t0 + 20, healthPolicy);
    expect(UpstreamHealth.parse(summary)).toEqual(summary);
    const signal = evaluateTrip(summary, healthPolicy, t0 + 20, events[2])!;
    expect(TripSignal.parse(signal)).toEqual(signal);
    const step = transitionBreaker(initialBreakerState('openai/org-a', t0), { kind: 'trip', signal }, breakerPolicy, t0 + 20, 0.5);
    expect(BreakerState.parse(step.state)).toEqual(step.state);
    expect(BreakerEvent.parse(step.event)).toEqual(step.event);
    expect(step.event).toMatchObject({ transition: 'opened', cause: 'fatal', evidence: { failures: 3, reopenAt: t0 + 5_020 } });
  });
});
