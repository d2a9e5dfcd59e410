/**
 * Load shedding: refuse a call early when it could not finish within its
 * deadline, instead of letting every caller wait to the deadline. A gateway
 * pod knows its calls in flight and how fast calls have been finishing
 * lately; by Little's law a new call waits about in-flight ÷ completion rate
 * (the recent latency when the stack keeps up, growing when it falls
 * behind), and at least as long as the oldest call still in flight. Pure
 * decision plus a small clock-driven gauge; no I/O.
 */

export interface SheddingPolicy {
  /** Refuse when the estimated time to answer exceeds this share of the call's deadline. */
  shareOfDeadline: number;
  /** Calls in flight in this pod at most, whatever the estimate. */
  maxInFlight: number;
}

export interface LoadSnapshot {
  inFlight: number;
  /** Calls that finished within the window. */
  completions: number;
  windowMs: number;
  /** Age of the oldest call still in flight (0 when none). */
  oldestInFlightMs: number;
}

export type ShedDecision = { shed: false; estimateMs: number } | { shed: true; estimateMs: number; retryAfterMs: number; reason: 'max_in_flight' | 'deadline' };

/**
 * How long a new call would take to be answered, from what this pod sees:
 * (in flight + 1) ÷ completion rate while calls finish; when none finished
 * in the window, the age of the oldest call in flight (one slow call among
 * many that finish does not count: that is the call's own trouble).
 */
export function estimateAnswerMs(load: LoadSnapshot): number {
  if (load.completions > 0) return ((load.inFlight + 1) * load.windowMs) / load.completions;
  return load.oldestInFlightMs;
}

export function decideShedding(load: LoadSnapshot, deadlineMs: number, policy: SheddingPolicy): ShedDecision {
  const estimateMs = estimateAnswerMs(load);
  const budgetMs = deadlineMs * policy.shareOfDeadline;
  // Come back when the calls ahead have had time to clear: the excess over the budget, at least a second.
  const retryAfterMs = Math.max(1_000, Math.ceil(estimateMs - budgetMs));
  if (load.inFlight >= policy.maxInFlight) return { shed: true, estimateMs, retryAfterMs, reason: 'max_in_flight' };
  if (estimateMs > budgetMs) return { shed: true, estimateMs, retryAfterMs, reason: 'deadline' };
  return { shed: false, estimateMs };
}

/** Calls in flight and recent completions of one pod, for decideShedding. */
export function createLoadGauge(windowMs: number, now: () => number = () => performance.now()) {
  const inFlight = new Map<number, number>();
  const completions: number[] = [];
  let next = 0;
  let firstBegin: number | undefined;
  const trim = (at: number) => {
    while (completions.length && at - completions[0]! > windowMs) completions.shift();
  };
  return {
    /** A call starts; call the returned function when it ends (answered or failed). */
    begin(): () => void {
      const id = next++;
      const at = now();
      firstBegin ??= at;
      inFlight.set(id, at);
      return () => {
        if (!inFlight.delete(id)) return;
        const at = now();
        completions.push(at);
        trim(at);
      };
    },
    snapshot(): LoadSnapshot {
      const at = now();
      trim(at);
      // Map iteration is insertion order: the first entry is the oldest call.
      const oldest = inFlight.values().next();
      // A pod up for less than the window has seen fewer completions: measure the rate over the time it has seen.
      const seenMs = Math.max(1, Math.min(windowMs, at - (firstBegin ?? at)));
      return { inFlight: inFlight.size, completions: completions.length, windowMs: seenMs, oldestInFlightMs: oldest.done ? 0 : at - oldest.value };
    },
  };
}
export type LoadGauge = ReturnType<typeof createLoadGauge>;
