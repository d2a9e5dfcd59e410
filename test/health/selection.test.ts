import fc from 'fast-check';
import { type BreakerState, BreakerStateKind, type UpstreamHealth } from '../../schemas/health';
import { isNoUpstream, isPoolExhausted, type SelectionCandidate, type SelectionInput, selectUpstream } from '../../lib/health';
import { t0 } from './call-events';

const now = t0;
const numRuns = 200;

function breaker(upstream: string, state: BreakerState['state'], extra: Partial<BreakerState> = {}): BreakerState {
  return { upstream, state, since: now - 1_000, consecutiveTrips: state === 'closed' ? 0 : 1, revision: 1, ...extra };
}
function health(upstream: string, extra: Partial<UpstreamHealth>): UpstreamHealth {
  return {
    upstream,
    calls: 10,
    failures: 0,
    failureRate: 0,
    consecutiveFailures: 0,
    slowCalls: 0,
    slowCallRate: 0,
    rateLimited: 0,
    rateLimitStrikes: 0,
    neutralCalls: 0,
    recentErrors: [],
    ...extra,
  };
}
function input(overrides: Partial<SelectionInput>): SelectionInput {
  return {
    candidates: [
      { id: 'a', weight: 1 },
      { id: 'b', weight: 1 },
    ],
    breakers: {},
    health: {},
    now,
    random01: 0.5,
    allowPanic: false,
    ...overrides,
  };
}

/** mulberry32: a tiny seeded PRNG, so the statistical checks are deterministic. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('selectUpstream (table)', () => {
  const cases: Array<{ name: string; input: Partial<SelectionInput>; expected: { upstream?: string; mode?: string; none?: true; retryAt?: number } }> = [
    { name: 'no breakers yet: closed, low random picks the first', input: { random01: 0 }, expected: { upstream: 'a', mode: 'closed' } },
    { name: 'high random picks the last', input: { random01: 0.999 }, expected: { upstream: 'b', mode: 'closed' } },
    { name: 'an excluded upstream is skipped', input: { exclude: new Set(['a']), random01: 0 }, expected: { upstream: 'b', mode: 'closed' } },
    {
      name: 'a drained (weight 0) upstream is skipped',
      input: {
        candidates: [
          { id: 'a', weight: 0 },
          { id: 'b', weight: 1 },
        ],
        random01: 0,
      },
      expected: { upstream: 'b' },
    },
    {
      name: 'open is skipped while a closed one is left',
      input: { breakers: { a: breaker('a', 'open', { reopenAt: now + 1 }) }, random01: 0 },
      expected: { upstream: 'b', mode: 'closed' },
    },
    {
      name: 'a closed upstream in a 429 cooldown is skipped',
      input: { health: { a: health('a', { rateLimitedUntil: now + 5_000 }) }, random01: 0 },
      expected: { upstream: 'b' },
    },
    { name: 'near-zero headroom is strongly avoided', input: { health: { a: health('a', { headroom: 0.001 }) }, random01: 0.05 }, expected: { upstream: 'b' } },
    {
      name: 'headroom above the comfort level is not penalised',
      input: { health: { a: health('a', { headroom: 0.3 }), b: health('b', { headroom: 1 }) }, random01: 0.49 },
      expected: { upstream: 'a' },
    },
    {
      name: 'a slower upstream gets a smaller share (1/(1+0.25) of the line is a)',
      input: { health: { a: health('a', { latencyEwmaMs: 1_000 }), b: health('b', { latencyEwmaMs: 4_000 }) }, random01: 0.79 },
      expected: { upstream: 'a' },
    },
    {
      name: '… and only that share',
      input: { health: { a: health('a', { latencyEwmaMs: 1_000 }), b: health('b', { latencyEwmaMs: 4_000 }) }, random01: 0.81 },
      expected: { upstream: 'b' },
    },
    {
      name: 'half-open within its budget joins the draw as a probe',
      input: { breakers: { a: breaker('a', 'half_open', { probeBudget: 1 }), b: breaker('b', 'open', { reopenAt: now + 1 }) } },
      expected: { upstream: 'a', mode: 'half_open_probe' },
    },
    {
      name: 'half-open past its budget is not drawn',
      input: { breakers: { a: breaker('a', 'half_open', { probeBudget: 1 }) }, probesInFlight: { a: 1 }, random01: 0 },
      expected: { upstream: 'b', mode: 'closed' },
    },
    {
      name: 'half-open without a budget on record uses halfOpenMaxConcurrent',
      input: { breakers: { a: breaker('a', 'half_open'), b: breaker('b', 'forced_open') }, probesInFlight: { a: 1 }, halfOpenMaxConcurrent: 2 },
      expected: { upstream: 'a', mode: 'half_open_probe' },
    },
    {
      name: 'forced_closed is eligible even when its breaker history is bad',
      input: { breakers: { a: breaker('a', 'forced_closed'), b: breaker('b', 'open', { reopenAt: now + 1 }) } },
      expected: { upstream: 'a', mode: 'closed' },
    },
    {
      name: 'forced_closed is eligible even in a 429 cooldown',
      input: { breakers: { a: breaker('a', 'forced_closed'), b: breaker('b', 'forced_open') }, health: { a: health('a', { rateLimitedUntil: now + 9_000 }) } },
      expected: { upstream: 'a', mode: 'closed' },
    },
    {
      name: 'all open, no panic: none, with the earliest recovery',
      input: { breakers: { a: breaker('a', 'open', { reopenAt: now + 9_000 }), b: breaker('b', 'open', { reopenAt: now + 3_000 }) } },
      expected: { none: true, retryAt: now + 3_000 },
    },
    {
      name: 'all open, panic: the one nearest to recovery',
      input: { allowPanic: true, breakers: { a: breaker('a', 'open', { reopenAt: now + 9_000 }), b: breaker('b', 'open', { reopenAt: now + 3_000 }) } },
      expected: { upstream: 'b', mode: 'panic' },
    },
    {
      name: 'panic counts a 429 reset as recovery too',
      input: {
        allowPanic: true,
        breakers: { a: breaker('a', 'open', { reopenAt: now + 9_000 }) },
        health: { b: health('b', { rateLimitedUntil: now + 2_000 }) },
      },
      expected: { upstream: 'b', mode: 'panic' },
    },
    {
      name: 'panic ties go to the larger weight',
      input: {
        allowPanic: true,
        candidates: [
          { id: 'a', weight: 1 },
          { id: 'b', weight: 3 },
        ],
        breakers: { a: breaker('a', 'open', { reopenAt: now + 1 }), b: breaker('b', 'open', { reopenAt: now + 1 }) },
      },
      expected: { upstream: 'b', mode: 'panic' },
    },
    {
      name: 'forced_open is never picked, not even in panic',
      input: { allowPanic: true, breakers: { a: breaker('a', 'forced_open'), b: breaker('b', 'forced_open') } },
      expected: { none: true },
    },
    { name: 'excluded is never picked, not even in panic', input: { allowPanic: true, exclude: new Set(['a', 'b']) }, expected: { none: true } },
    {
      name: 'breakers and health may come as Maps',
      input: { breakers: new Map([['a', breaker('a', 'forced_open')]]), health: new Map([['b', health('b', {})]]) },
      expected: { upstream: 'b' },
    },
  ];

  it.each(cases)('$name', ({ input: overrides, expected }) => {
    const selection = selectUpstream(input(overrides));
    expect(selection).toMatchObject(expected);
    expect(selection.reason.length).toBeGreaterThan(0);
  });
});

describe('isPoolExhausted', () => {
  it.each([
    ['healthy pool', {}, false],
    ['all open', { breakers: { a: breaker('a', 'open', { reopenAt: now + 1 }), b: breaker('b', 'open', { reopenAt: now + 1 }) } }, true],
    ['one half-open with budget', { breakers: { a: breaker('a', 'half_open', { probeBudget: 1 }), b: breaker('b', 'open', { reopenAt: now + 1 }) } }, false],
    ['the rest excluded or cooling', { exclude: new Set(['a']), health: { b: health('b', { rateLimitedUntil: now + 1 }) } }, true],
  ] as const)('%s → %s', (_name, overrides, expected) => {
    expect(isPoolExhausted(input(overrides))).toBe(expected);
  });
});

describe('selectUpstream (property)', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const world = fc.record({
    candidates: fc
      .uniqueArray(fc.constantFrom(...ids), { minLength: 1, maxLength: 5 })
      .chain((chosen) => fc.tuple(...chosen.map((id) => fc.record({ id: fc.constant(id), weight: fc.integer({ min: 0, max: 10 }) })))),
    states: fc.dictionary(
      fc.constantFrom(...ids),
      fc.record({ state: fc.constantFrom(...BreakerStateKind.options), reopenInMs: fc.integer({ min: -1_000, max: 60_000 }) }),
    ),
    cooling: fc.dictionary(fc.constantFrom(...ids), fc.integer({ min: -1_000, max: 60_000 })),
    exclude: fc.subarray(ids),
    probesInFlight: fc.dictionary(fc.constantFrom(...ids), fc.integer({ min: 0, max: 3 })),
    random01: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    allowPanic: fc.boolean(),
  });

  it('never returns an excluded, drained, forced_open or unknown upstream; always picks when a closed one is free', () => {
    fc.assert(
      fc.property(world, (w) => {
        const breakers = Object.fromEntries(
          Object.entries(w.states).map(([id, s]) => [id, breaker(id, s.state, s.state === 'open' ? { reopenAt: now + s.reopenInMs } : {})]),
        );
        const healthById = Object.fromEntries(Object.entries(w.cooling).map(([id, ms]) => [id, health(id, { rateLimitedUntil: now + ms })]));
        const exclude = new Set(w.exclude);
        const selection = selectUpstream({
          candidates: w.candidates as SelectionCandidate[],
          breakers,
          health: healthById,
          exclude,
          probesInFlight: w.probesInFlight,
          now,
          random01: w.random01,
          allowPanic: w.allowPanic,
        });
        const freeClosed = w.candidates.some(
          (c) => c.weight > 0 && !exclude.has(c.id) && (breakers[c.id]?.state ?? 'closed') === 'closed' && !((healthById[c.id]?.rateLimitedUntil ?? 0) > now),
        );
        if (isNoUpstream(selection)) {
          expect(freeClosed).toBe(false);
          return;
        }
        const picked = w.candidates.find((c) => c.id === selection.upstream);
        expect(picked).toBeDefined();
        expect(picked!.weight).toBeGreaterThan(0);
        expect(exclude.has(selection.upstream)).toBe(false);
        expect(breakers[selection.upstream]?.state).not.toBe('forced_open');
        if (selection.mode === 'panic') expect(w.allowPanic).toBe(true);
      }),
      { numRuns },
    );
  });

  it('panic picks the open upstream with the nearest reopenAt', () => {
    const opens = fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(opens, (reopenIns) => {
        const candidates = reopenIns.map((_, i) => ({ id: `u${i}`, weight: 1 + (i % 3) }));
        const breakers = new Map(reopenIns.map((ms, i) => [`u${i}`, breaker(`u${i}`, 'open', { reopenAt: now + ms })]));
        const selection = selectUpstream({ candidates, breakers, health: {}, now, random01: 0.3, allowPanic: true });
        const nearest = reopenIns.indexOf(Math.min(...reopenIns));
        expect(selection).toMatchObject({ upstream: `u${nearest}`, mode: 'panic' });
      }),
      { numRuns },
    );
  });

  it('for equal health, evenly spread random01 values split picks exactly by weight (to 1/N)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }), (weights) => {
        const candidates = weights.map((weight, i) => ({ id: `u${i}`, weight }));
        const draws = 1_000;
        const counts = new Map<string, number>();
        for (let i = 0; i < draws; i += 1) {
          const s = selectUpstream({ candidates, breakers: {}, health: {}, now, random01: (i + 0.5) / draws, allowPanic: false });
          if (!isNoUpstream(s)) counts.set(s.upstream, (counts.get(s.upstream) ?? 0) + 1);
        }
        const total = weights.reduce((a, b) => a + b, 0);
        candidates.forEach((c) => expect(Math.abs((counts.get(c.id) ?? 0) / draws - c.weight / total)).toBeLessThanOrEqual(1 / draws + 1e-9));
      }),
      { numRuns: 50 },
    );
  });

  it('with a seeded random sequence, frequencies follow weights (statistical, deterministic)', () => {
    const random = seeded(20_240_611);
    const candidates = [
      { id: 'a', weight: 1 },
      { id: 'b', weight: 2 },
      { id: 'c', weight: 5 },
    ];
    const healthy = Object.fromEntries(candidates.map((c) => [c.id, health(c.id, { latencyEwmaMs: 800, headroom: 0.9 })]));
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const draws = 20_000;
    for (let i = 0; i < draws; i += 1) {
      const s = selectUpstream({ candidates, breakers: {}, health: healthy, now, random01: random(), allowPanic: false });
      if (!isNoUpstream(s)) counts[s.upstream]! += 1;
    }
    expect(counts.a! / draws).toBeCloseTo(1 / 8, 1);
    expect(counts.b! / draws).toBeCloseTo(2 / 8, 1);
    expect(counts.c! / draws).toBeCloseTo(5 / 8, 1);
  });
});
