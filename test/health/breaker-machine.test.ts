import fc from 'fast-check';
import { BreakerInput, BreakerPolicy, type BreakerState, type TripKind, type TripSignal } from '../../schemas/health';
import { initialBreakerState, transitionBreaker } from '../../lib/health';
import { breakerPolicy, t0 } from './call-events';

const upstream = 'openai/org-a';
const numRuns = 200;

function trip(kind: TripKind = 'consecutive_failures', evidenceAt = t0, rateLimitedUntil?: number): BreakerInput {
  const signal: TripSignal = {
    upstream,
    kind,
    detail: `${kind} detail`,
    evidenceAt,
    at: evidenceAt,
    evidence: {
      consecutiveFailures: 3,
      calls: 3,
      failures: 3,
      failureRate: 1,
      slowCalls: 0,
      rateLimited: 0,
      recentErrors: [],
      ...(rateLimitedUntil !== undefined && { rateLimitedUntil }),
    },
  };
  return { kind: 'trip', signal };
}
const elapsed: BreakerInput = { kind: 'cooldown_elapsed' };
const probe = (ok: boolean): BreakerInput => ({
  kind: 'probe_result',
  ok,
  ...(!ok && { error: { at: t0, outcome: 'retryable', status: 503, errorType: 'overloaded' } }),
});
const operator = (action: 'open' | 'close' | 'auto'): BreakerInput => ({ kind: 'operator', action, reason: `ops said ${action}` });

function state(overrides: Partial<BreakerState>): BreakerState {
  return { ...initialBreakerState(upstream, t0), ...overrides };
}

describe('transitionBreaker (table)', () => {
  const open = state({ state: 'open', since: t0, reopenAt: t0 + 5_000, consecutiveTrips: 1, cause: 'consecutive_failures', revision: 1 });
  const halfOpen = state({ state: 'half_open', since: t0 + 5_000, consecutiveTrips: 1, probeBudget: 1, probeSuccesses: 0, revision: 2 });
  const cases: Array<{ name: string; from: BreakerState; input: BreakerInput; now: number; to: Partial<BreakerState> | 'unchanged'; transition?: string }> = [
    {
      name: 'closed → open on a trip, first cooldown',
      from: state({}),
      input: trip(),
      now: t0 + 10,
      to: { state: 'open', since: t0 + 10, reopenAt: t0 + 5_010, consecutiveTrips: 1, cause: 'consecutive_failures', revision: 1 },
      transition: 'opened',
    },
    { name: 'a duplicate trip while open is a no-op', from: open, input: trip('fatal', t0 + 100), now: t0 + 100, to: 'unchanged' },
    {
      name: 'a trip whose evidence predates the state is stale',
      from: state({ since: t0 + 500 }),
      input: trip('failure_rate', t0 + 100),
      now: t0 + 600,
      to: 'unchanged',
    },
    { name: 'a trip for another upstream is ignored', from: state({ upstream: 'other' }), input: trip(), now: t0, to: 'unchanged' },
    { name: 'the timer before reopenAt (a stale timer) is a no-op', from: open, input: elapsed, now: t0 + 4_999, to: 'unchanged' },
    {
      name: 'open → half_open when the cooldown elapses',
      from: open,
      input: elapsed,
      now: t0 + 5_000,
      to: { state: 'half_open', since: t0 + 5_000, probeBudget: 1, probeSuccesses: 0, consecutiveTrips: 1, reopenAt: undefined, revision: 2 },
      transition: 'half_open',
    },
    {
      name: 'half_open → closed on the probe success',
      from: halfOpen,
      input: probe(true),
      now: t0 + 6_000,
      to: { state: 'closed', since: t0 + 6_000, cause: 'probes_succeeded', probeBudget: undefined, consecutiveTrips: 1, revision: 3 },
      transition: 'closed',
    },
    {
      name: 'half_open → open with a longer cooldown on a probe failure',
      from: halfOpen,
      input: probe(false),
      now: t0 + 6_000,
      to: { state: 'open', reopenAt: t0 + 16_000, consecutiveTrips: 2, cause: 'probe_failed', reason: 'probe failed: 503 overloaded' },
      transition: 'opened',
    },
    {
      name: 'half_open → open on a trip too',
      from: halfOpen,
      input: trip('fatal', t0 + 5_500),
      now: t0 + 5_500,
      to: { state: 'open', consecutiveTrips: 2, cause: 'fatal', reopenAt: t0 + 15_500 },
      transition: 'opened',
    },
    {
      name: 'a probe result of this half-open revision counts',
      from: halfOpen,
      input: { kind: 'probe_result', ok: true, revision: 2 },
      now: t0 + 6_000,
      to: { state: 'closed', revision: 3 },
      transition: 'closed',
    },
    {
      name: 'a probe result of an earlier half-open period is stale',
      from: halfOpen,
      input: { kind: 'probe_result', ok: false, revision: 1 },
      now: t0 + 6_000,
      to: 'unchanged',
    },
    {
      name: 'half_open → a fresh half-open period when no probe answered in time',
      from: halfOpen,
      input: { kind: 'probe_expired', revision: 2 },
      now: t0 + 35_000,
      to: { state: 'half_open', since: t0 + 35_000, cause: 'probe_expired', probeBudget: 1, probeSuccesses: 0, consecutiveTrips: 1, revision: 3 },
      transition: 'half_open',
    },
    {
      name: 'the half-open timer of an earlier revision is a no-op',
      from: halfOpen,
      input: { kind: 'probe_expired', revision: 1 },
      now: t0 + 35_000,
      to: 'unchanged',
    },
    { name: 'the half-open timer while open is a no-op', from: open, input: { kind: 'probe_expired', revision: 1 }, now: t0 + 35_000, to: 'unchanged' },
    { name: 'a probe result while closed is a no-op', from: state({}), input: probe(false), now: t0, to: 'unchanged' },
    { name: 'a timer while closed is a no-op', from: state({}), input: elapsed, now: t0, to: 'unchanged' },
    {
      name: 'a persistent 429 stays open until the vendor reset',
      from: state({}),
      input: trip('rate_limit_persistent', t0, t0 + 40_000),
      now: t0,
      to: { state: 'open', reopenAt: t0 + 40_000, cause: 'rate_limit_persistent' },
      transition: 'opened',
    },
    {
      name: 'a trip soon after closing climbs the ladder',
      from: state({ since: t0, consecutiveTrips: 2, revision: 5 }),
      input: trip(),
      now: t0 + 60_000,
      to: { consecutiveTrips: 3, reopenAt: t0 + 80_000 },
      transition: 'opened',
    },
    {
      name: 'a trip after a stable spell starts the ladder over',
      from: state({ since: t0, consecutiveTrips: 4, revision: 5 }),
      input: trip(),
      now: t0 + 600_000,
      to: { consecutiveTrips: 1, reopenAt: t0 + 605_000 },
      transition: 'opened',
    },
    {
      name: 'operator open forces open from anywhere',
      from: halfOpen,
      input: operator('open'),
      now: t0 + 7_000,
      to: { state: 'forced_open', cause: 'operator', reason: 'ops said open', probeBudget: undefined },
      transition: 'forced_open',
    },
    { name: 'forced_open ignores the timer', from: state({ state: 'forced_open' }), input: elapsed, now: t0 + 1e9, to: 'unchanged' },
    { name: 'forced_open ignores trips', from: state({ state: 'forced_open' }), input: trip(), now: t0, to: 'unchanged' },
    { name: 'forced_closed ignores trips', from: state({ state: 'forced_closed' }), input: trip('fatal'), now: t0, to: 'unchanged' },
    {
      name: 'operator close forces closed',
      from: open,
      input: operator('close'),
      now: t0 + 1,
      to: { state: 'forced_closed', reopenAt: undefined },
      transition: 'forced_closed',
    },
    {
      name: 'auto from forced_open probes first',
      from: state({ state: 'forced_open' }),
      input: operator('auto'),
      now: t0 + 1,
      to: { state: 'half_open', probeBudget: 1, cause: 'operator' },
      transition: 'half_open',
    },
    {
      name: 'auto from forced_closed closes',
      from: state({ state: 'forced_closed' }),
      input: operator('auto'),
      now: t0 + 1,
      to: { state: 'closed', cause: 'operator' },
      transition: 'closed',
    },
    { name: 'auto when not forced is a no-op', from: open, input: operator('auto'), now: t0 + 1, to: 'unchanged' },
    { name: 'forcing open twice is a no-op', from: state({ state: 'forced_open' }), input: operator('open'), now: t0 + 1, to: 'unchanged' },
  ];

  it.each(cases)('$name', ({ from, input, now, to, transition }) => {
    const step = transitionBreaker(from, input, breakerPolicy, now, 0.5);
    if (to === 'unchanged') {
      expect(step.state).toBe(from);
      expect(step.event).toBeUndefined();
      return;
    }
    const named = Object.fromEntries(Object.keys(to).map((key) => [key, step.state[key as keyof BreakerState]]));
    expect(named).toEqual(to);
    expect(step.event).toMatchObject({ upstream: from.upstream, transition, from: from.state, to: step.state.state, at: now, revision: step.state.revision });
    if (transition === 'opened') expect(step.event?.evidence.reopenAt).toBe(step.state.reopenAt);
  });

  it('needs halfOpenProbes successes to close; a changed state without an event in between', () => {
    const policy = BreakerPolicy.parse({ halfOpenProbes: 3, halfOpenMaxConcurrent: 2 });
    let s = transitionBreaker(state({ state: 'open', reopenAt: t0 }), elapsed, policy, t0, 0.5).state;
    expect(s).toMatchObject({ state: 'half_open', probeBudget: 2 });
    for (const expected of [1, 2]) {
      const step = transitionBreaker(s, probe(true), policy, t0 + expected, 0.5);
      expect(step.event).toBeUndefined();
      expect(step.state).toMatchObject({ state: 'half_open', probeSuccesses: expected, revision: s.revision + 1 });
      s = step.state;
    }
    expect(transitionBreaker(s, probe(true), policy, t0 + 3, 0.5).event?.transition).toBe('closed');
  });
});

describe('transitionBreaker (property)', () => {
  const inputs: fc.Arbitrary<BreakerInput> = fc.oneof(
    fc.constantFrom<TripKind>('consecutive_failures', 'failure_rate', 'slow_calls', 'fatal', 'rate_limit_persistent').map((k) => trip(k, 0)),
    fc.constant(elapsed),
    fc.boolean().map(probe),
    fc.constantFrom('open', 'close', 'auto').map((a) => operator(a as 'open' | 'close' | 'auto')),
  );
  const runs = fc.array(fc.tuple(inputs, fc.integer({ min: 0, max: 400_000 }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 40 });

  it('keeps its invariants over any sequence of inputs', () => {
    fc.assert(
      fc.property(runs, (steps) => {
        let s = initialBreakerState(upstream, t0);
        let now = t0;
        for (const [input, advanceMs, random01] of steps) {
          now += advanceMs;
          // Trips carry evidence from "now", as a live registry's would.
          const fresh = input.kind === 'trip' ? { ...input, signal: { ...input.signal, evidenceAt: now, at: now } } : input;
          const step = transitionBreaker(s, fresh, breakerPolicy, now, random01);
          expect(BreakerInput.parse(fresh)).toEqual(fresh);
          if (step.state === s) {
            expect(step.event).toBeUndefined();
          } else {
            expect(step.state.revision).toBe(s.revision + 1);
            if (step.event) expect(step.event).toMatchObject({ from: s.state, to: step.state.state, revision: step.state.revision });
            else expect(step.state.state).toBe(s.state);
          }
          // Only an operator moves a forced breaker.
          if ((s.state === 'forced_open' || s.state === 'forced_closed') && fresh.kind !== 'operator') expect(step.state).toBe(s);
          // A second identical trip is always harmless.
          if (fresh.kind === 'trip' && step.state.state === 'open')
            expect(transitionBreaker(step.state, fresh, breakerPolicy, now, random01).event).toBeUndefined();
          expect(step.state.reopenAt !== undefined).toBe(step.state.state === 'open');
          expect(step.state.probeBudget !== undefined).toBe(step.state.state === 'half_open');
          if (step.event?.transition === 'opened' && fresh.kind !== 'trip') {
            expect(step.state.reopenAt! - now).toBeLessThanOrEqual(breakerPolicy.maxCooldownMs * (1 + breakerPolicy.jitterRatio));
          }
          s = step.state;
        }
      }),
      { numRuns },
    );
  });

  it('each failed probe in a row reopens for at least as long (same random)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), (failures, random01) => {
        let s = transitionBreaker(initialBreakerState(upstream, t0), trip('fatal', t0), breakerPolicy, t0, random01).state;
        let now = t0;
        let previousCooldownMs = s.reopenAt! - now;
        for (let i = 0; i < failures; i += 1) {
          now = s.reopenAt!;
          s = transitionBreaker(s, elapsed, breakerPolicy, now, random01).state;
          s = transitionBreaker(s, probe(false), breakerPolicy, now, random01).state;
          const cooldownMs = s.reopenAt! - now;
          expect(cooldownMs).toBeGreaterThanOrEqual(previousCooldownMs);
          previousCooldownMs = cooldownMs;
        }
        expect(s.consecutiveTrips).toBe(failures + 1);
      }),
      { numRuns },
    );
  });
});
