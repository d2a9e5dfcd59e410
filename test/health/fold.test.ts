import type { CallEvent } from '../../schemas/call-event';
import { HealthPolicy, type UpstreamHealth } from '../../schemas/health';
import { clearUpstreamHealth, emptyHealth, foldCallEvent, type HealthState, healthByUpstream, probeOutcomeOf, upstreamHealth } from '../../lib/health';
import { at, callEvent, healthPolicy, t0 } from './call-events';

const upstream = 'openai/org-a';
/** The fold keeps one window per upstream and model (the events' model is gpt-test). */
const key = 'openai/org-a/gpt-test';

function fold(events: readonly CallEvent[], state: HealthState = emptyHealth(), policy: HealthPolicy = healthPolicy): HealthState {
  return events.reduce((s, e) => foldCallEvent(s, e, policy), state);
}

function summarise(events: readonly CallEvent[], nowOffsetMs: number, policy: HealthPolicy = healthPolicy): UpstreamHealth {
  return upstreamHealth(fold(events, emptyHealth(), policy), key, t0 + nowOffsetMs, policy);
}

describe('foldCallEvent → upstreamHealth (table)', () => {
  const cases: Array<{ name: string; events: CallEvent[]; now: number; expected: Partial<UpstreamHealth> }> = [
    {
      name: 'no events: zeros, nothing known',
      events: [],
      now: 0,
      expected: { calls: 0, failures: 0, failureRate: 0, consecutiveFailures: 0, headroom: undefined, latencyEwmaMs: undefined },
    },
    { name: 'one success', events: [at(0)], now: 0, expected: { calls: 1, failures: 0, consecutiveFailures: 0, latencyEwmaMs: 100, lastEventAt: t0 } },
    {
      name: 'retryable and fatal are failures and run the streak',
      events: [at(0), at(10, 'retryable'), at(20, 'fatal_upstream')],
      now: 20,
      expected: { calls: 3, failures: 2, failureRate: 2 / 3, consecutiveFailures: 2 },
    },
    {
      name: 'a success resets the streak',
      events: [at(0, 'retryable'), at(10, 'retryable'), at(20), at(30, 'retryable')],
      now: 30,
      expected: { calls: 4, failures: 3, consecutiveFailures: 1 },
    },
    {
      name: 'a 429 is neither a call nor a failure, and leaves the streak alone',
      events: [at(0, 'retryable'), at(10, 'rate_limited', { retryAfterMs: 2_000 }), at(20, 'retryable')],
      now: 20,
      expected: { calls: 2, failures: 2, rateLimited: 1, consecutiveFailures: 2, rateLimitStrikes: 1, rateLimitedUntil: t0 + 2_010 },
    },
    {
      name: 'caller_fault and invalid_output are neutral',
      events: [at(0, 'retryable'), at(10, 'caller_fault'), at(20, 'invalid_output'), at(30, 'retryable')],
      now: 30,
      expected: { calls: 2, failures: 2, neutralCalls: 2, consecutiveFailures: 2 },
    },
    {
      name: 'slow by latency or by time to first token',
      events: [
        at(0, 'success', { latencyMs: 30_000 }),
        at(10, 'success', { latencyMs: 1_000, ttftMs: 10_000 }),
        at(20, 'success', { latencyMs: 29_999, ttftMs: 9_999 }),
      ],
      now: 20,
      expected: { calls: 3, slowCalls: 2, slowCallRate: 2 / 3 },
    },
    {
      name: 'events older than the window drop out',
      events: [at(0, 'retryable'), at(1_000, 'retryable'), at(70_000)],
      now: 70_000,
      expected: { calls: 1, failures: 0, failureRate: 0, consecutiveFailures: 0 },
    },
    {
      name: 'an out-of-order success older than the streak does not reset it',
      events: [at(10, 'retryable'), at(20, 'retryable'), at(5)],
      now: 20,
      expected: { calls: 3, failures: 2, consecutiveFailures: 2 },
    },
    {
      name: 'an out-of-order failure older than the streak does not extend it',
      events: [at(10), at(20, 'retryable'), at(5, 'retryable')],
      now: 20,
      expected: { calls: 3, failures: 2, consecutiveFailures: 1 },
    },
    {
      name: 'a streak whose last event left the window starts over',
      events: [at(0, 'retryable'), at(1_000, 'retryable'), at(62_000, 'retryable')],
      now: 62_000,
      expected: { consecutiveFailures: 1 },
    },
    {
      name: 'a streak is reported as zero once it is older than the window',
      events: [at(0, 'retryable'), at(1_000, 'retryable')],
      now: 62_000,
      expected: { consecutiveFailures: 0, calls: 0 },
    },
    {
      name: 'headroom is the tighter of requests and tokens',
      events: [
        at(0, 'success', {
          rateLimit: { limitRequests: 100, remainingRequests: 10, resetRequestsMs: 30_000, limitTokens: 10_000, remainingTokens: 5_000, resetTokensMs: 30_000 },
        }),
      ],
      now: 1_000,
      expected: { headroom: 0.1 },
    },
    {
      name: 'a limit whose reset has passed is full again',
      events: [at(0, 'success', { rateLimit: { limitRequests: 100, remainingRequests: 10, resetRequestsMs: 2_000 } })],
      now: 2_000,
      expected: { headroom: 1 },
    },
    {
      name: 'the newest snapshot wins, whatever the arrival order',
      events: [
        at(500, 'success', { rateLimit: { limitRequests: 100, remainingRequests: 80 } }),
        at(100, 'success', { rateLimit: { limitRequests: 100, remainingRequests: 5 } }),
      ],
      now: 500,
      expected: { headroom: 0.8 },
    },
    {
      name: 'a success that exhausts a limit starts a cooldown until its reset',
      events: [at(0, 'success', { rateLimit: { limitRequests: 100, remainingRequests: 0, resetRequestsMs: 2_000 } })],
      now: 1_000,
      expected: { rateLimitedUntil: t0 + 2_000, headroom: 0, rateLimitStrikes: 0 },
    },
    {
      name: "a 429 with no retry-after uses the exhausted limit's reset",
      events: [at(0, 'rate_limited', { rateLimit: { limitTokens: 1_000, remainingTokens: 0, resetTokensMs: 7_000 } })],
      now: 0,
      expected: { rateLimitedUntil: t0 + 7_000 },
    },
    { name: 'a bare 429 cools down for defaultRetryAfterMs', events: [at(0, 'rate_limited')], now: 0, expected: { rateLimitedUntil: t0 + 1_000 } },
    {
      name: 'a cooldown that has passed is not reported',
      events: [at(0, 'rate_limited')],
      now: 1_000,
      expected: { rateLimitedUntil: undefined, rateLimited: 1 },
    },
    {
      name: '429s during a cooldown are one strike; after it, another; a success clears them',
      events: [
        at(0, 'rate_limited', { retryAfterMs: 1_000 }),
        at(500, 'rate_limited', { retryAfterMs: 1_000 }),
        at(1_600, 'rate_limited', { retryAfterMs: 1_000 }),
      ],
      now: 1_600,
      expected: { rateLimitStrikes: 2, rateLimited: 3 },
    },
    {
      name: 'a success clears the strikes',
      events: [at(0, 'rate_limited'), at(2_000, 'rate_limited'), at(4_000)],
      now: 4_000,
      expected: { rateLimitStrikes: 0 },
    },
    {
      name: 'latency EWMA over answered calls only',
      events: [at(0, 'success', { latencyMs: 100 }), at(10, 'retryable', { latencyMs: 60_000 }), at(20, 'invalid_output', { latencyMs: 200, ttftMs: 50 })],
      now: 20,
      expected: { latencyEwmaMs: 120, ttftEwmaMs: 50 },
    },
  ];

  it.each(cases)('$name', ({ events, now, expected }) => {
    const summary = summarise(events, now);
    // Only the keys the case names; toEqual reads an absent key as undefined.
    const named = Object.fromEntries(Object.keys(expected).map((key) => [key, summary[key as keyof UpstreamHealth]]));
    expect(named).toEqual(expected);
  });
});

describe('recent errors', () => {
  it('keeps the newest recentErrorsKept by `at`, newest last, with the status and a cut message', () => {
    const events = [1, 2, 3, 4, 5, 6, 7].map((i) => at(i * 10, 'retryable', { errorType: `e${i}`, errorMessage: 'x'.repeat(500) }));
    const shuffled = [events[3]!, events[6]!, events[0]!, events[5]!, events[1]!, events[4]!, events[2]!];
    const { recentErrors } = summarise(shuffled, 100);
    expect(recentErrors.map((e) => e.errorType)).toEqual(['e3', 'e4', 'e5', 'e6', 'e7']);
    expect(recentErrors[0]).toMatchObject({ at: t0 + 30, outcome: 'retryable', status: 503 });
    expect(recentErrors[0]!.message).toHaveLength(200);
  });

  it('forgets errors that left the window', () => {
    expect(summarise([at(0, 'retryable')], 61_000).recentErrors).toEqual([]);
  });
});

describe('purity and bookkeeping', () => {
  it('does not mutate the state it folds into', () => {
    const before = fold([at(0), at(10, 'retryable'), at(20, 'rate_limited')]);
    const snapshot = structuredClone(before);
    fold([at(30, 'retryable'), at(5_000, 'success', { rateLimit: { limitRequests: 10, remainingRequests: 1 } })], before);
    expect(before).toEqual(snapshot);
  });

  it('returns the same state for an event too old to matter', () => {
    const state = fold([at(120_000)]);
    expect(foldCallEvent(state, at(0, 'retryable'), healthPolicy)).toBe(state);
  });

  it('keeps upstreams apart', () => {
    const state = fold([at(0, 'retryable'), callEvent({ at: t0, upstream: 'openai/org-b' })]);
    const all = healthByUpstream(state, t0, healthPolicy);
    expect(all.get('openai/org-a/gpt-test')).toMatchObject({ upstream: 'openai/org-a', model: 'gpt-test', failures: 1, calls: 1 });
    expect(all.get('openai/org-b/gpt-test')).toMatchObject({ upstream: 'openai/org-b', model: 'gpt-test', failures: 0, calls: 1 });
  });

  it('keeps the models of one upstream apart', () => {
    const state = fold([at(0, 'retryable'), at(10, 'retryable', { model: 'gpt-4.1' }), at(20, 'success', { model: 'gpt-4.1' })]);
    expect(upstreamHealth(state, 'openai/org-a/gpt-test', t0 + 20, healthPolicy)).toMatchObject({
      model: 'gpt-test',
      calls: 1,
      failures: 1,
      consecutiveFailures: 1,
    });
    expect(upstreamHealth(state, 'openai/org-a/gpt-4=2E1', t0 + 20, healthPolicy)).toMatchObject({
      model: 'gpt-4.1',
      calls: 2,
      failures: 1,
      consecutiveFailures: 0,
    });
  });

  it('honours a custom bucket size', () => {
    const policy = HealthPolicy.parse({ windowMs: 10_000, bucketMs: 1_000 });
    expect(summarise([at(0, 'retryable'), at(9_500)], 9_500, policy)).toMatchObject({ calls: 2 });
    expect(summarise([at(0, 'retryable'), at(10_500)], 10_500, policy)).toMatchObject({ calls: 1, failures: 0 });
  });
});

describe('clearUpstreamHealth', () => {
  it("clears one model for a model's breaker, every model for the upstream's own", () => {
    const events = [at(0, 'retryable'), at(10, 'retryable', { model: 'other' })];
    const otherKey = 'openai/org-a/other';
    const oneModel = clearUpstreamHealth(fold(events), key, t0 + 5_000, healthPolicy);
    expect(upstreamHealth(oneModel, key, t0 + 5_000, healthPolicy).failures).toBe(0);
    expect(upstreamHealth(oneModel, otherKey, t0 + 5_000, healthPolicy).failures).toBe(1);
    const account = clearUpstreamHealth(fold(events), upstream, t0 + 5_000, healthPolicy);
    expect([key, otherKey].map((k) => upstreamHealth(account, k, t0 + 5_000, healthPolicy).failures)).toEqual([0, 0]);
    // A model first seen after the account's clear still ignores events from before it.
    const late = fold([at(100, 'retryable', { model: 'new' }), at(6_000, 'retryable', { model: 'new' })], account);
    expect(upstreamHealth(late, 'openai/org-a/new', t0 + 6_000, healthPolicy)).toMatchObject({ calls: 1, failures: 1 });
  });

  it('forgets the failures that opened the breaker, keeps the vendor cooldown, ignores late old events', () => {
    const opened = fold([at(0, 'retryable'), at(10, 'retryable'), at(20, 'retryable'), at(30, 'rate_limited', { retryAfterMs: 60_000 })]);
    const cleared = clearUpstreamHealth(opened, upstream, t0 + 6_000, healthPolicy);
    const late = fold([at(40, 'retryable'), at(7_000)], cleared);
    expect(upstreamHealth(late, key, t0 + 7_000, healthPolicy)).toMatchObject({
      calls: 1,
      failures: 0,
      consecutiveFailures: 0,
      rateLimitStrikes: 0,
      recentErrors: [],
      rateLimitedUntil: t0 + 60_030,
    });
  });

  it('is a no-op for an older `since`, and works before any event (load breakers, then replay)', () => {
    const cleared = clearUpstreamHealth(emptyHealth(), upstream, t0 + 5_000, healthPolicy);
    expect(clearUpstreamHealth(cleared, upstream, t0, healthPolicy)).toBe(cleared);
    const replayed = fold([at(0, 'retryable'), at(6_000, 'retryable')], cleared);
    expect(upstreamHealth(replayed, key, t0 + 6_000, healthPolicy)).toMatchObject({ calls: 1, failures: 1 });
  });
});

describe('probeOutcomeOf', () => {
  it.each([
    ['success', true],
    ['retryable', false],
    ['fatal_upstream', false],
    ['rate_limited', undefined],
    ['caller_fault', undefined],
    ['invalid_output', undefined],
  ] as const)('%s → %s', (outcome, expected) => {
    expect(probeOutcomeOf({ outcome })).toBe(expected);
  });
});
