import { formatResetDuration, formatResetInstant, initialLimiterState, peekLimits, takeFromLimits } from '../../services/fake-vendor/rate-limit';

const limits = { rpm: 60, tpm: 6_000 };

describe('token-bucket rate limits', () => {
  it('spends a request and tokens, and reports what remains', () => {
    const taken = takeFromLimits(initialLimiterState(limits, 0), limits, 0, 100);
    expect(taken.allowed).toBe(true);
    expect(taken.snapshot).toEqual({ requests: { limit: 60, remaining: 59, resetMs: 1_000 }, tokens: { limit: 6_000, remaining: 5_900, resetMs: 1_000 } });
  });

  it('refuses when requests run out and says when one is back', () => {
    let state = initialLimiterState({ rpm: 2, tpm: 1_000 }, 0);
    for (let i = 0; i < 2; i++) {
      const taken = takeFromLimits(state, { rpm: 2, tpm: 1_000 }, 0, 1);
      expect(taken.allowed).toBe(true);
      state = taken.state;
    }
    const refused = takeFromLimits(state, { rpm: 2, tpm: 1_000 }, 0, 1);
    expect(refused).toMatchObject({ allowed: false, scope: 'requests', retryAfterMs: 30_000 });
    expect(takeFromLimits(refused.state, { rpm: 2, tpm: 1_000 }, 30_000, 1).allowed).toBe(true);
  });

  it('refuses on tokens, and forever when one request exceeds the whole budget', () => {
    const state = initialLimiterState(limits, 0);
    const spent = takeFromLimits(state, limits, 0, 6_000);
    expect(takeFromLimits(spent.state, limits, 0, 600)).toMatchObject({ allowed: false, scope: 'tokens', retryAfterMs: 6_000 });
    expect(takeFromLimits(state, limits, 0, 6_001)).toMatchObject({ allowed: false, retryAfterMs: Number.POSITIVE_INFINITY });
  });

  it('refills continuously up to the limit and never beyond', () => {
    const spent = takeFromLimits(initialLimiterState(limits, 0), limits, 0, 3_000);
    expect(peekLimits(spent.state, limits, 15_000).snapshot.tokens.remaining).toBe(4_500);
    expect(peekLimits(spent.state, limits, 3_600_000).snapshot).toEqual({
      requests: { limit: 60, remaining: 60, resetMs: 0 },
      tokens: { limit: 6_000, remaining: 6_000, resetMs: 0 },
    });
  });

  it('grants at most a full bucket plus its refill in any window (the token-bucket law)', () => {
    let state = initialLimiterState({ rpm: 10, tpm: 1e9 }, 0);
    const grants: number[] = [];
    for (let t = 0; t < 180_000; t += 250) {
      const taken = takeFromLimits(state, { rpm: 10, tpm: 1e9 }, t, 1);
      state = taken.state;
      if (taken.allowed) grants.push(t);
    }
    // A burst of `rpm`, then `rpm` per minute: never more than capacity + rate × window.
    for (const start of grants) expect(grants.filter((t) => t >= start && t < start + 60_000).length).toBeLessThanOrEqual(10 + 10);
    expect(grants.length).toBeLessThanOrEqual(10 + 10 * 3);
    expect(grants.filter((t) => t >= 60_000).length).toBeGreaterThanOrEqual(19);
  });
});

describe('reset formats', () => {
  it.each([
    [0, '0ms'],
    [120, '120ms'],
    [999.2, '1s'],
    [1_000, '1s'],
    [8_640, '8.64s'],
    [90_500, '1m30.5s'],
    [360_000, '6m0s'],
  ])('OpenAI writes %d ms as %s', (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });

  it('Anthropic writes an RFC 3339 instant rounded up to the second', () => {
    expect(formatResetInstant(Date.UTC(2025, 0, 1, 0, 0, 0, 200), 1_000)).toBe('2025-01-01T00:00:02Z');
  });
});
