import fc from 'fast-check';
import { BreakerPolicy, type BreakerState, HealthPolicy, type TripKind, type TripSignal, type UpstreamHealth } from '../../schemas/health';
import { cooldownForTrip, emptyHealth, evaluateTrip, foldCallEvent, isTripActionable, mayEjectForRateLimit, upstreamHealth } from '../../lib/health';
import { at, breakerPolicy, healthPolicy, t0 } from './call-events';

const upstream = 'openai/org-a';
/** The fold keeps one window per upstream and model (the events' model is gpt-test). */
const key = 'openai/org-a/gpt-test';
const numRuns = 200;

function summary(overrides: Partial<UpstreamHealth> = {}): UpstreamHealth {
  return {
    upstream,
    calls: 0,
    failures: 0,
    failureRate: 0,
    consecutiveFailures: 0,
    slowCalls: 0,
    slowCallRate: 0,
    rateLimited: 0,
    rateLimitStrikes: 0,
    neutralCalls: 0,
    recentErrors: [],
    ...overrides,
  };
}

describe('evaluateTrip (table)', () => {
  const now = t0 + 1_000;
  const cases: Array<{ name: string; summary: Partial<UpstreamHealth>; latest?: Parameters<typeof at>; kind: TripKind | null }> = [
    { name: 'healthy', summary: { calls: 50, failures: 2, failureRate: 0.04 }, latest: [900], kind: null },
    {
      name: 'a fatal error trips at once',
      summary: { calls: 1, failures: 1, failureRate: 1, consecutiveFailures: 1 },
      latest: [900, 'fatal_upstream'],
      kind: 'fatal',
    },
    { name: 'a fatal error from before the window does not', summary: { calls: 1 }, latest: [-60_000, 'fatal_upstream'], kind: null },
    {
      name: 'two failures in a row are not enough',
      summary: { calls: 2, failures: 2, failureRate: 1, consecutiveFailures: 2 },
      latest: [900, 'retryable'],
      kind: null,
    },
    {
      name: 'three in a row trip',
      summary: { calls: 3, failures: 3, failureRate: 1, consecutiveFailures: 3 },
      latest: [900, 'retryable'],
      kind: 'consecutive_failures',
    },
    {
      name: 'fatal outranks the streak',
      summary: { calls: 3, failures: 3, failureRate: 1, consecutiveFailures: 3 },
      latest: [900, 'fatal_upstream'],
      kind: 'fatal',
    },
    {
      name: 'a high failure rate below the minimum of calls does not trip',
      summary: { calls: 9, failures: 8, failureRate: 8 / 9, consecutiveFailures: 2 },
      latest: [900, 'retryable'],
      kind: null,
    },
    {
      name: 'failure rate at the threshold with the minimum of calls trips',
      summary: { calls: 10, failures: 5, failureRate: 0.5, consecutiveFailures: 1 },
      latest: [900, 'retryable'],
      kind: 'failure_rate',
    },
    {
      name: 'failure rate is checked on a success too (resilience4j does the same)',
      summary: { calls: 10, failures: 5, failureRate: 0.5 },
      latest: [900],
      kind: 'failure_rate',
    },
    { name: 'slow-call rate trips with the minimum of calls', summary: { calls: 10, slowCalls: 8, slowCallRate: 0.8 }, latest: [900], kind: 'slow_calls' },
    { name: 'slow-call rate below the minimum of calls is off', summary: { calls: 5, slowCalls: 5, slowCallRate: 1 }, latest: [900], kind: null },
    {
      name: 'a 429 only cools down',
      summary: { rateLimited: 3, rateLimitStrikes: 1, rateLimitedUntil: t0 + 5_000 },
      latest: [900, 'rate_limited'],
      kind: null,
    },
    {
      name: '429s that persist past their cooldowns trip',
      summary: { rateLimited: 9, rateLimitStrikes: 5 },
      latest: [900, 'rate_limited'],
      kind: 'rate_limit_persistent',
    },
    {
      name: 'a neutral latest event never trips, whatever the window says',
      summary: { calls: 10, failures: 10, failureRate: 1, consecutiveFailures: 10 },
      latest: [900, 'caller_fault'],
      kind: null,
    },
    { name: 'invalid output is neutral too', summary: { consecutiveFailures: 10 }, latest: [900, 'invalid_output'], kind: null },
    { name: 'a periodic check (no latest event) uses the window', summary: { calls: 12, failures: 7, failureRate: 7 / 12 }, kind: 'failure_rate' },
  ];

  it.each(cases)('$name → $kind', ({ summary: s, latest, kind }) => {
    const signal = evaluateTrip(summary(s), healthPolicy, now, latest ? at(...latest) : undefined);
    expect(signal?.kind ?? null).toBe(kind);
    if (signal) {
      expect(signal).toMatchObject({ upstream, at: now, evidence: { calls: s.calls ?? 0, failures: s.failures ?? 0 } });
      expect(signal.detail.length).toBeGreaterThan(0);
    }
  });

  it('takes its thresholds from config', () => {
    const strict = HealthPolicy.parse({ consecutiveFailures: 1 });
    expect(evaluateTrip(summary({ consecutiveFailures: 1 }), strict, t0, at(0, 'retryable'))?.kind).toBe('consecutive_failures');
  });

  it('trips on the third consecutive failure folded from events, naming the last error', () => {
    const events = [
      at(0),
      at(10, 'retryable', { errorType: 'overloaded' }),
      at(20, 'retryable', { errorType: 'overloaded' }),
      at(30, 'retryable', { errorType: 'timeout' }),
    ];
    const state = events.reduce((s, e) => foldCallEvent(s, e, healthPolicy), emptyHealth());
    const signal = evaluateTrip(upstreamHealth(state, key, t0 + 30, healthPolicy), healthPolicy, t0 + 30, events[3]);
    expect(signal).toMatchObject({ kind: 'consecutive_failures', evidenceAt: t0 + 30, evidence: { consecutiveFailures: 3, calls: 4, failures: 3 } });
    expect(signal?.detail).toContain('503 timeout');
    expect(signal?.evidence.recentErrors).toHaveLength(3);
  });
});

describe('cooldownForTrip', () => {
  it.each([
    [1, 0.5, 5_000],
    [2, 0.5, 10_000],
    [3, 0.5, 20_000],
    [4, 0.5, 20_000],
    [5, 0.5, 20_000],
    [50, 0.5, 20_000],
    [2_000, 0.5, 20_000],
    [1, 0, 4_000],
    [1, 1, 6_000],
    [7, 1, 24_000],
  ])('trip %i with random %d → %i ms', (trips, random01, expected) => {
    expect(cooldownForTrip(trips, breakerPolicy, random01)).toBe(expected);
  });

  it('never decreases as trips grow (fixed random), never exceeds max × (1 + jitter), never falls below base × (1 − jitter)', () => {
    const policies = fc
      .record({
        baseCooldownMs: fc.integer({ min: 1, max: 60_000 }),
        extraMs: fc.integer({ min: 0, max: 600_000 }),
        cooldownMultiplier: fc.double({ min: 1, max: 5, noNaN: true }),
        jitterRatio: fc.double({ min: 0, max: 0.99, noNaN: true }),
      })
      .map(({ extraMs, ...p }) => BreakerPolicy.parse({ ...p, maxCooldownMs: p.baseCooldownMs + extraMs }));
    fc.assert(
      fc.property(policies, fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (policy, trips, random01) => {
        const now = cooldownForTrip(trips, policy, random01);
        expect(cooldownForTrip(trips + 1, policy, random01)).toBeGreaterThanOrEqual(now);
        expect(now).toBeLessThanOrEqual(policy.maxCooldownMs * (1 + policy.jitterRatio));
        expect(now).toBeGreaterThanOrEqual(Math.floor(policy.baseCooldownMs * (1 - policy.jitterRatio)) - 1);
      }),
      { numRuns },
    );
  });
});

describe('isTripActionable', () => {
  const signal = {
    upstream,
    kind: 'consecutive_failures',
    detail: 'x',
    evidence: { consecutiveFailures: 3, calls: 3, failures: 3, failureRate: 1, slowCalls: 0, rateLimited: 0, recentErrors: [] },
    evidenceAt: t0 + 100,
    at: t0 + 100,
  } satisfies TripSignal;
  const breaker = (state: BreakerState['state'], since = t0): BreakerState => ({ upstream, state, since, consecutiveTrips: 0, revision: 1 });
  it.each([
    ['no breaker yet', undefined, true],
    ['closed', breaker('closed'), true],
    ['half_open', breaker('half_open'), true],
    ['open', breaker('open'), false],
    ['forced_open', breaker('forced_open'), false],
    ['forced_closed', breaker('forced_closed'), false],
    ['closed after the evidence', breaker('closed', t0 + 200), false],
  ] as const)('%s → %s', (_name, b, expected) => {
    expect(isTripActionable(b, signal)).toBe(expected);
  });
});

describe('mayEjectForRateLimit (the guard)', () => {
  const open = (cause: BreakerState['cause']): BreakerState => ({ upstream: 'x', state: 'open', since: t0, consecutiveTrips: 1, cause, revision: 1 });
  const pool4 = ['a', 'b', 'c', 'd'];
  const cases: Array<{ name: string; pool: string[]; breakers: Record<string, BreakerState>; expected: boolean }> = [
    { name: 'a pool of one is never emptied', pool: ['a'], breakers: {}, expected: false },
    { name: 'one of two is half the pool: allowed at 0.5', pool: ['a', 'b'], breakers: {}, expected: true },
    { name: 'the second of two would be all of it', pool: ['a', 'b'], breakers: { b: open('rate_limit_persistent') }, expected: false },
    { name: 'two of four rate-limit ejections is the limit', pool: pool4, breakers: { b: open('rate_limit_persistent') }, expected: true },
    { name: 'a third of four is too many', pool: pool4, breakers: { b: open('rate_limit_persistent'), c: open('rate_limit_persistent') }, expected: false },
    { name: 'other causes do not count toward the share', pool: pool4, breakers: { b: open('fatal'), c: open('consecutive_failures') }, expected: true },
    {
      name: 'but the pool is never left with nothing usable',
      pool: ['a', 'b', 'c'],
      breakers: { b: open('fatal'), c: { ...open('operator'), state: 'forced_open' } },
      expected: false,
    },
    { name: 'a candidate missing from the list still counts in the pool', pool: ['b'], breakers: {}, expected: true },
  ];
  it.each(cases)('$name', ({ pool, breakers, expected }) => {
    expect(mayEjectForRateLimit(pool, breakers, 'a', healthPolicy)).toBe(expected);
  });

  it('reads a Map as well as a record', () => {
    expect(mayEjectForRateLimit(['a', 'b'], new Map([['b', open('rate_limit_persistent')]]), 'a', healthPolicy)).toBe(false);
  });
});
