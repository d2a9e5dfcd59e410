import fc from 'fast-check';
import type { CallEvent } from '../../schemas/call-event';
import { emptyHealth, evaluateTrip, foldCallEvent, type HealthState, isBreakerFailure, isNeutralOutcome, isSlowCall, upstreamHealth } from '../../lib/health';
import { arbitraryEvent, healthPolicy, t0 } from './call-events';

/** The fold keeps one window per upstream and model (the events' model is gpt-test). */
const key = 'openai/org-a/gpt-test';
const numRuns = 200;
const { windowMs, bucketMs } = healthPolicy;
// Every event in [t0, t0 + inWindowSpanMs] is inside the window that ends at t0 + inWindowSpanMs (t0 is bucket-aligned).
const inWindowSpanMs = windowMs - bucketMs;

function fold(events: readonly CallEvent[], state: HealthState = emptyHealth()): HealthState {
  return events.reduce((s, e) => foldCallEvent(s, e, healthPolicy), state);
}

function permutationOf<T>(items: T[]): fc.Arbitrary<T[]> {
  return fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length });
}

/** What the window should count, computed directly from the events. */
function oracleCounts(events: readonly CallEvent[], now: number) {
  const oldest = Math.floor(now / bucketMs) - Math.ceil(windowMs / bucketMs) + 1;
  const inWindow = events.filter((e) => Math.floor(e.at / bucketMs) >= oldest);
  const counted = inWindow.filter((e) => e.outcome === 'success' || isBreakerFailure(e.outcome));
  return {
    calls: counted.length,
    failures: counted.filter((e) => isBreakerFailure(e.outcome)).length,
    slowCalls: counted.filter((e) => isSlowCall(e, healthPolicy)).length,
    rateLimited: inWindow.filter((e) => e.outcome === 'rate_limited').length,
    neutralCalls: inWindow.filter((e) => isNeutralOutcome(e.outcome)).length,
  };
}

function countsOf(state: HealthState, now: number) {
  const { calls, failures, slowCalls, rateLimited, neutralCalls } = upstreamHealth(state, key, now, healthPolicy);
  return { calls, failures, slowCalls, rateLimited, neutralCalls };
}

function interleave<T>(items: readonly T[], extras: readonly T[], slots: readonly number[]): T[] {
  const out = [...items];
  extras.forEach((extra, i) => out.splice((slots[i] ?? 0) % (out.length + 1), 0, extra));
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    const children = value instanceof Map ? [...value.values()] : Object.values(value);
    for (const child of children) deepFreeze(child);
  }
  return value;
}

describe('fold laws (property)', () => {
  it('window counts do not depend on arrival order, and equal a direct count of the window', () => {
    const scenario = fc
      .array(arbitraryEvent(3 * windowMs), { minLength: 1, maxLength: 60 })
      .chain((events) => fc.tuple(fc.constant(events), permutationOf(events)));
    fc.assert(
      fc.property(scenario, ([events, shuffled]) => {
        const now = Math.max(...events.map((e) => e.at));
        const expected = oracleCounts(events, now);
        expect(countsOf(fold(events), now)).toEqual(expected);
        expect(countsOf(fold(shuffled), now)).toEqual(expected);
      }),
      { numRuns },
    );
  });

  it('caller_fault and invalid_output never change failure counts, streaks or trips', () => {
    const counted = arbitraryEvent(inWindowSpanMs, fc.constantFrom('success', 'retryable', 'fatal_upstream', 'rate_limited'));
    const neutral = arbitraryEvent(inWindowSpanMs, fc.constantFrom('caller_fault', 'invalid_output'));
    const scenario = fc.tuple(fc.array(counted, { maxLength: 40 }), fc.array(neutral, { minLength: 1, maxLength: 20 })).chain(([events, neutrals]) =>
      // Neutral events slipped in anywhere; the counted events keep their relative order (streaks depend on it).
      fc.tuple(
        fc.constant(events),
        fc.array(fc.nat(), { minLength: neutrals.length, maxLength: neutrals.length }).map((slots) => interleave(events, neutrals, slots)),
        fc.constant(neutrals),
      ),
    );
    fc.assert(
      fc.property(scenario, ([events, mixed, neutrals]) => {
        const now = t0 + inWindowSpanMs;
        const pick = (s: HealthState) => {
          const h = upstreamHealth(s, key, now, healthPolicy);
          return {
            h,
            core: [
              h.calls,
              h.failures,
              h.failureRate,
              h.consecutiveFailures,
              h.slowCalls,
              h.rateLimited,
              h.rateLimitStrikes,
              h.rateLimitedUntil,
              h.recentErrors,
            ],
          };
        };
        const plain = pick(fold(events));
        const withNeutrals = pick(fold(mixed));
        expect(withNeutrals.core).toEqual(plain.core);
        expect(evaluateTrip(withNeutrals.h, healthPolicy, now)?.kind).toEqual(evaluateTrip(plain.h, healthPolicy, now)?.kind);
        for (const n of neutrals) expect(evaluateTrip(withNeutrals.h, healthPolicy, now, n)).toBeNull();
      }),
      { numRuns },
    );
  });

  it('in `at` order, the streak is the failures since the last success, and a success resets it', () => {
    fc.assert(
      fc.property(fc.array(arbitraryEvent(inWindowSpanMs), { maxLength: 60 }), (events) => {
        const sorted = [...events].sort((a, b) => a.at - b.at);
        let state = emptyHealth();
        let expected = 0;
        for (const event of sorted) {
          state = foldCallEvent(state, event, healthPolicy);
          if (event.outcome === 'success') expected = 0;
          else if (isBreakerFailure(event.outcome)) expected += 1;
          const { consecutiveFailures } = upstreamHealth(state, key, t0 + inWindowSpanMs, healthPolicy);
          expect(consecutiveFailures).toBe(expected);
          if (event.outcome === 'success') expect(consecutiveFailures).toBe(0);
        }
      }),
      { numRuns },
    );
  });

  it('in any order, the streak never exceeds the failures in the window', () => {
    fc.assert(
      fc.property(fc.array(arbitraryEvent(inWindowSpanMs), { maxLength: 60 }), (events) => {
        const h = upstreamHealth(fold(events), key, t0 + inWindowSpanMs, healthPolicy);
        expect(h.consecutiveFailures).toBeLessThanOrEqual(h.failures);
      }),
      { numRuns },
    );
  });

  it('never mutates the state it is given', () => {
    fc.assert(
      fc.property(fc.array(arbitraryEvent(2 * windowMs), { maxLength: 40 }), (events) => {
        // Frozen objects throw on write in strict mode, so any mutation fails the run.
        events.reduce((s, e) => deepFreeze(foldCallEvent(s, e, healthPolicy)), deepFreeze(emptyHealth()));
      }),
      { numRuns },
    );
  });
});
