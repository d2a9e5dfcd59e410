/**
 * An adaptive limit on one gateway pod's calls in flight, driven by how long
 * calls wait in our own stack before a worker starts on them (the queue), the
 * way concurrency-limit libraries drive theirs by latency: the wait without
 * load is tracked, the limit shrinks when the wait rises well above it and
 * grows while it does not and the limit is in use.
 *
 * The signal is the time from a call's admission to its first attempt's start
 * (workflow start, workflow task and attempt picked up by a worker), not the
 * whole call: a streamed answer that lasts a minute, a slow vendor, a retry's
 * backoff or a vendor's retry-after come after that point and say nothing
 * about our queue. Only answered calls report one (a failed call may not have
 * reached an attempt at all; a cache hit has none of its own).
 *
 * Pure: the revision is a function; the stateful limiter takes its clock.
 */

export interface AdaptiveLimitPolicy {
  /** Calls in flight the pod starts with. */
  initialLimit: number;
  /** The limit never shrinks below this. */
  minLimit: number;
  /** The limit never grows beyond this (the pod's hard cap). */
  maxLimit: number;
  /** Overload: the median wait of an interval's calls exceeds the no-load wait by more than this. */
  queueDelayMs: number;
  /** The limit is revised at most once per interval. */
  intervalMs: number;
}

/** An interval's calls: how long they waited for their first attempt, and the most in flight at once. */
export interface IntervalLoad {
  medianDelayMs: number;
  peakInFlight: number;
}

export type LimitRevision = { limit: number; change: 'shrink' | 'grow' | 'hold' };

/** Samples an interval needs before it revises anything: one slow call is that call's own trouble. */
export const MIN_SAMPLES = 3;
/** The no-load wait is the lowest interval median seen this long. */
export const BASELINE_WINDOW_MS = 600_000;

/**
 * The next limit after an interval: overloaded (median beyond the no-load wait
 * plus `queueDelayMs`) shrinks it in proportion to how far beyond (to no less
 * than half per interval); otherwise it grows by √limit when at least half of
 * it was in use — an idle pod's limit does not climb to where a burst would
 * queue before anything pushes back.
 */
export function reviseLimit(limit: number, load: IntervalLoad, baselineMs: number, policy: AdaptiveLimitPolicy): LimitRevision {
  const thresholdMs = baselineMs + policy.queueDelayMs;
  if (load.medianDelayMs > thresholdMs) {
    const next = Math.max(policy.minLimit, Math.floor(limit * Math.max(0.5, thresholdMs / load.medianDelayMs)));
    return { limit: Math.min(next, limit), change: next < limit ? 'shrink' : 'hold' };
  }
  if (load.peakInFlight * 2 < limit || limit >= policy.maxLimit) return { limit: Math.min(limit, policy.maxLimit), change: 'hold' };
  return { limit: Math.min(policy.maxLimit, limit + Math.max(1, Math.floor(Math.sqrt(limit)))), change: 'grow' };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * The limit of one pod. `report` takes an answered call's wait with the time
 * it was admitted; a call admitted before the last shrink is ignored — it
 * waited behind the old, larger limit, and counting it would shrink the limit
 * again for a queue already cut (the feedback arrives as late as the wait).
 */
export function createAdaptiveLimit(policy: () => AdaptiveLimitPolicy, now: () => number) {
  let limit = policy().initialLimit;
  let samples: number[] = [];
  let peakInFlight = 0;
  let intervalStart = now();
  let shrunkAt = Number.NEGATIVE_INFINITY;
  /** Interval medians of the baseline window, oldest first. */
  const medians: Array<{ at: number; ms: number }> = [];
  let lastChange: LimitRevision['change'] = 'hold';

  const baseline = (at: number, ms: number): number => {
    while (medians.length && at - medians[0]!.at > BASELINE_WINDOW_MS) medians.shift();
    medians.push({ at, ms });
    return Math.min(...medians.map((m) => m.ms));
  };

  const current = (): number => Math.min(policy().maxLimit, Math.max(policy().minLimit, limit));

  return {
    /** The limit now. */
    limit: current,
    /** What the last revision did, for metrics and tests. */
    lastChange: (): LimitRevision['change'] => lastChange,
    /** Calls in flight now (called on every admission). */
    observeInFlight(inFlight: number): void {
      peakInFlight = Math.max(peakInFlight, inFlight);
    },
    /** An answered call admitted at `admittedAt` (this clock) whose first attempt started `delayMs` after. */
    report(admittedAt: number, delayMs: number): void {
      if (admittedAt < shrunkAt) return;
      samples.push(Math.max(0, delayMs));
      const at = now();
      if (samples.length < MIN_SAMPLES || at - intervalStart < policy().intervalMs) return;
      const medianDelayMs = median(samples);
      const revision = reviseLimit(current(), { medianDelayMs, peakInFlight }, baseline(at, medianDelayMs), policy());
      limit = revision.limit;
      lastChange = revision.change;
      if (revision.change === 'shrink') shrunkAt = at;
      samples = [];
      peakInFlight = 0;
      intervalStart = at;
    },
  };
}
export type AdaptiveLimit = ReturnType<typeof createAdaptiveLimit>;
