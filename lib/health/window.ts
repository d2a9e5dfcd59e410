import type { HealthPolicy } from '../../schemas/health';

/** What one bucket counts. All of a window's numbers are sums of these. */
export interface BucketCounts {
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  readonly rateLimited: number;
  readonly neutralCalls: number;
}

/** One slot of the ring: the counts of the events whose `floor(at / bucketMs)` is `index`. */
export interface Bucket extends BucketCounts {
  readonly index: number;
}

/**
 * A fixed-size ring of buckets; bucket `index` lives in slot `index mod size`.
 * `headIndex` is the newest bucket seen: the window is the `size` buckets
 * ending there, so "older than the window" is relative to the newest event,
 * not to a clock, and the fold stays pure.
 */
export interface RollingWindow {
  readonly buckets: readonly Bucket[];
  readonly headIndex: number;
}

const zeroCounts: BucketCounts = Object.freeze({ calls: 0, failures: 0, slowCalls: 0, rateLimited: 0, neutralCalls: 0 });

/** Buckets in a window: ceil(windowMs / bucketMs). */
export function bucketCount(policy: Pick<HealthPolicy, 'windowMs' | 'bucketMs'>): number {
  return Math.ceil(policy.windowMs / policy.bucketMs);
}

function bucketIndexOf(at: number, policy: Pick<HealthPolicy, 'bucketMs'>): number {
  return Math.floor(at / policy.bucketMs);
}

// An index no real bucket has, so an empty slot never matches and is always older.
const emptyIndex = Number.NEGATIVE_INFINITY;

export function emptyWindow(policy: Pick<HealthPolicy, 'windowMs' | 'bucketMs'>): RollingWindow {
  const empty: Bucket = Object.freeze({ index: emptyIndex, ...zeroCounts });
  return { buckets: Array.from({ length: bucketCount(policy) }, () => empty), headIndex: emptyIndex };
}

/** True when an event at `at` still falls inside the window (its bucket is not older than the window's oldest). */
export function isInWindow(window: RollingWindow, at: number, policy: Pick<HealthPolicy, 'bucketMs'>): boolean {
  return bucketIndexOf(at, policy) > window.headIndex - window.buckets.length;
}

/**
 * Adds `delta` to the bucket of `at`; returns the same window when the event
 * is older than the window (dropped). Out-of-order events inside the window
 * land in their own bucket, so counts do not depend on arrival order.
 * Copies the ring (O(buckets)); the input is never mutated.
 */
export function addToWindow(window: RollingWindow, at: number, delta: Partial<BucketCounts>, policy: Pick<HealthPolicy, 'bucketMs'>): RollingWindow {
  const index = bucketIndexOf(at, policy);
  const size = window.buckets.length;
  if (index <= window.headIndex - size) return window;
  const slot = ((index % size) + size) % size;
  const current = window.buckets[slot]!;
  // A slot holding a newer bucket means this one was already pushed out of the window.
  if (current.index > index) return window;
  const base: BucketCounts = current.index === index ? current : zeroCounts;
  const next: Bucket = {
    index,
    calls: base.calls + (delta.calls ?? 0),
    failures: base.failures + (delta.failures ?? 0),
    slowCalls: base.slowCalls + (delta.slowCalls ?? 0),
    rateLimited: base.rateLimited + (delta.rateLimited ?? 0),
    neutralCalls: base.neutralCalls + (delta.neutralCalls ?? 0),
  };
  const buckets = window.buckets.slice();
  buckets[slot] = next;
  return { buckets, headIndex: Math.max(window.headIndex, index) };
}

/**
 * Sums the buckets of the window that ends at `now`: the `size` buckets up to
 * and including `now`'s, so the window covers between windowMs − bucketMs and
 * windowMs of history. Buckets after `now` (another pod's clock running ahead)
 * are included rather than lost.
 */
export function sumWindow(window: RollingWindow, now: number, policy: Pick<HealthPolicy, 'bucketMs'>): BucketCounts {
  const oldest = bucketIndexOf(now, policy) - window.buckets.length + 1;
  let calls = 0,
    failures = 0,
    slowCalls = 0,
    rateLimited = 0,
    neutralCalls = 0;
  for (const bucket of window.buckets) {
    if (bucket.index < oldest) continue;
    calls += bucket.calls;
    failures += bucket.failures;
    slowCalls += bucket.slowCalls;
    rateLimited += bucket.rateLimited;
    neutralCalls += bucket.neutralCalls;
  }
  return { calls, failures, slowCalls, rateLimited, neutralCalls };
}

/** Drops every bucket that begins before `at` (the one straddling `at` too: stale evidence is worse than a few lost events). */
export function dropBefore(window: RollingWindow, at: number, policy: Pick<HealthPolicy, 'bucketMs'>): RollingWindow {
  const empty: Bucket = Object.freeze({ index: emptyIndex, ...zeroCounts });
  const firstKept = Math.ceil(at / policy.bucketMs);
  return { ...window, buckets: window.buckets.map((b) => (b.index < firstKept ? empty : b)) };
}
