import { HealthPolicy } from '../../schemas/health';
import { addToWindow, bucketCount, dropBefore, emptyWindow, isInWindow, sumWindow } from '../../lib/health/window';

const policy = HealthPolicy.parse({ windowMs: 4_000, bucketMs: 1_000 });
const one = { calls: 1 };

function windowOf(ats: readonly number[]) {
  return ats.reduce((w, at) => addToWindow(w, at, one, policy), emptyWindow(policy));
}

describe('RollingWindow', () => {
  it('has ceil(windowMs / bucketMs) buckets', () => {
    expect(bucketCount(policy)).toBe(4);
    expect(bucketCount({ windowMs: 4_500, bucketMs: 1_000 })).toBe(5);
  });

  it.each([
    { name: 'same bucket adds up', ats: [0, 10, 999], now: 999, calls: 3 },
    { name: 'the window is the last 4 buckets, the current one included', ats: [0, 1_000, 2_000, 3_000, 3_999], now: 3_999, calls: 5 },
    { name: 'a bucket pushed out by newer ones is not counted', ats: [0, 1_000, 4_000], now: 4_000, calls: 2 },
    { name: 'a reused slot starts from zero', ats: [0, 0, 4_500], now: 4_500, calls: 1 },
    { name: 'an event older than the window is dropped on arrival', ats: [9_000, 1_000], now: 9_000, calls: 1 },
    { name: 'out of order inside the window is kept', ats: [3_000, 500, 2_000, 1_500], now: 3_000, calls: 4 },
    { name: 'summing later than the newest event ages buckets out', ats: [0, 1_000, 2_000], now: 5_000, calls: 1 },
    { name: 'a bucket ahead of `now` (a clock running fast) is counted', ats: [2_000, 6_000], now: 5_500, calls: 1 },
  ])('$name', ({ ats, now, calls }) => {
    expect(sumWindow(windowOf(ats), now, policy).calls).toBe(calls);
  });

  it('isInWindow follows the newest bucket', () => {
    const w = windowOf([9_000]);
    expect(isInWindow(w, 6_000, policy)).toBe(true);
    expect(isInWindow(w, 5_999, policy)).toBe(false);
  });

  it('dropBefore drops the bucket straddling the cut too', () => {
    const w = dropBefore(windowOf([1_000, 2_100, 2_900, 3_000]), 2_500, policy);
    expect(sumWindow(w, 3_000, policy).calls).toBe(1);
  });

  it('never mutates the window it is given', () => {
    const w = windowOf([0]);
    const copy = structuredClone(w);
    addToWindow(w, 10, { failures: 1 }, policy);
    expect(w).toEqual(copy);
  });
});
