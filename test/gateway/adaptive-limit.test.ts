/**
 * The adaptive limit on a gateway pod's calls in flight (pure): how one
 * interval revises it, and the limiter over a sequence of calls — a steady
 * queue-free load never shrinks it, a growing queue does, calls admitted
 * before a shrink do not shrink it again, one slow call alone changes nothing.
 */
import { BASELINE_WINDOW_MS, createAdaptiveLimit, MIN_SAMPLES, reviseLimit, type AdaptiveLimitPolicy } from '../../lib/admission/adaptive-limit';

const policy: AdaptiveLimitPolicy = { initialLimit: 40, minLimit: 4, maxLimit: 100, queueDelayMs: 500, intervalMs: 1_000 };

describe('reviseLimit', () => {
  it.each([
    ['no queue, limit in use: grows by √limit', 40, { medianDelayMs: 30, peakInFlight: 30 }, 20, { limit: 46, change: 'grow' }],
    ['no queue, limit mostly idle: holds', 40, { medianDelayMs: 30, peakInFlight: 19 }, 20, { limit: 40, change: 'hold' }],
    ['a wait just within the no-load wait + queueDelayMs: not overload', 40, { medianDelayMs: 520, peakInFlight: 40 }, 20, { limit: 46, change: 'grow' }],
    ['a queue twice the threshold: halves', 40, { medianDelayMs: 1_040, peakInFlight: 40 }, 20, { limit: 20, change: 'shrink' }],
    ['a queue a little over the threshold: shrinks in proportion', 40, { medianDelayMs: 650, peakInFlight: 40 }, 20, { limit: 32, change: 'shrink' }],
    ['a queue far over the threshold: at most halves per interval', 40, { medianDelayMs: 30_000, peakInFlight: 40 }, 20, { limit: 20, change: 'shrink' }],
    ['never below minLimit', 5, { medianDelayMs: 30_000, peakInFlight: 5 }, 20, { limit: 4, change: 'shrink' }],
    ['at minLimit: holds', 4, { medianDelayMs: 30_000, peakInFlight: 4 }, 20, { limit: 4, change: 'hold' }],
    ['never above maxLimit', 98, { medianDelayMs: 10, peakInFlight: 98 }, 20, { limit: 100, change: 'grow' }],
    ['at maxLimit: holds', 100, { medianDelayMs: 10, peakInFlight: 100 }, 20, { limit: 100, change: 'hold' }],
    [
      'a slow stack without load (no-load wait 2 s): its own wait is no queue',
      40,
      { medianDelayMs: 2_300, peakInFlight: 30 },
      2_000,
      { limit: 46, change: 'grow' },
    ],
  ])('%s', (_, limit, load, baselineMs, expected) => {
    expect(reviseLimit(limit, load, baselineMs, policy)).toEqual(expected);
  });
});

/** A limiter on a hand-driven clock; `interval(waits)` admits one call per wait, reports each and moves the clock one interval. */
function limiter(p: AdaptiveLimitPolicy = policy) {
  let now = 0;
  const limit = createAdaptiveLimit(
    () => p,
    () => now,
  );
  return {
    limit,
    tick: (ms: number) => (now += ms),
    now: () => now,
    interval(waits: number[], inFlight = waits.length) {
      const admittedAt = now;
      limit.observeInFlight(inFlight);
      now += p.intervalMs;
      for (const w of waits) limit.report(admittedAt, w);
      return limit.limit();
    },
  };
}

describe('createAdaptiveLimit', () => {
  it('grows while calls do not queue and the limit is in use, up to maxLimit; holds when idle', () => {
    const l = limiter();
    expect(l.interval([20, 25, 30, 22], 30)).toBe(46);
    expect(l.interval([20, 25, 30], 5)).toBe(46);
    for (let i = 0; i < 20; i++) l.interval([20, 25, 30], 100);
    expect(l.limit.limit()).toBe(100);
  });

  it('shrinks when the wait rises well above the no-load wait, and ignores calls admitted before the shrink', () => {
    const l = limiter();
    l.interval([20, 20, 20], 40); // the no-load wait: 20 ms
    expect(l.limit.limit()).toBe(46);
    expect(l.interval([2_000, 2_100, 1_900], 46)).toBe(23);
    expect(l.limit.lastChange()).toBe('shrink');
    // Calls admitted before the shrink waited behind the old limit: no second shrink from them.
    const before = l.now() - 10;
    for (let i = 0; i < 10; i++) l.limit.report(before, 5_000);
    l.tick(5_000);
    l.limit.report(before, 5_000);
    expect(l.limit.limit()).toBe(23);
    // Calls admitted after it still queue: it shrinks again.
    expect(l.interval([1_500, 1_600, 1_400], 23)).toBe(11);
  });

  it('needs MIN_SAMPLES answered calls and a whole interval before it revises', () => {
    const l = limiter();
    l.interval([20, 20, 20], 40);
    const admittedAt = l.now();
    l.tick(policy.intervalMs);
    // One very slow call alone changes nothing.
    for (let i = 1; i < MIN_SAMPLES; i++) l.limit.report(admittedAt, 60_000);
    expect(l.limit.limit()).toBe(46);
    // Enough samples, but within the same interval as the last revision: nothing either.
    const l2 = limiter();
    l2.interval([20, 20, 20], 40);
    for (let i = 0; i < 10; i++) l2.limit.report(l2.now(), 60_000);
    expect(l2.limit.limit()).toBe(46);
  });

  it('forgets no-load waits older than the baseline window', () => {
    const l = limiter();
    l.interval([20, 20, 20], 40);
    l.tick(BASELINE_WINDOW_MS + 1);
    // Over the old 20 ms + 500 ms; the stack's wait is now 600 ms without queueing, which becomes the new no-load wait.
    expect(l.interval([600, 600, 600], 5)).toBe(46);
    expect(l.limit.lastChange()).toBe('hold');
  });

  it('keeps within minLimit and maxLimit when the settings change', () => {
    let p = policy;
    const limit = createAdaptiveLimit(
      () => p,
      () => 0,
    );
    p = { ...policy, maxLimit: 1 };
    expect(limit.limit()).toBe(1);
    p = { ...policy, minLimit: 60 };
    expect(limit.limit()).toBe(60);
  });
});
