/**
 * Load shedding: refuse a call early rather than let it queue. Two guards on
 * what one gateway pod sees: an adaptive limit on its calls in flight, which
 * shrinks when calls start waiting in our stack before a worker picks them up
 * (adaptive-limit.ts) — it keeps admitted calls near their unloaded latency —
 * and the deadline estimate: by Little's law a new call waits about in-flight
 * ÷ completion rate (the recent latency when the stack keeps up, growing when
 * it falls behind), and at least as long as the oldest call still in flight;
 * beyond a share of the deadline it is refused, whatever the limit says.
 * Pure decision plus a small clock-driven gauge; no I/O.
 */
import { createAdaptiveLimit, type AdaptiveLimitPolicy } from './adaptive-limit';

export interface SheddingPolicy {
  /** Refuse when the estimated time to answer exceeds this share of the call's deadline. */
  shareOfDeadline: number;
  /** Calls in flight in this pod at most, whatever the estimate. */
  maxInFlight: number;
  /** Whether the adaptive limit applies (else only maxInFlight and the estimate). */
  adaptive: boolean;
}

export interface LoadSnapshot {
  inFlight: number;
  /** Calls that finished within the window. */
  completions: number;
  windowMs: number;
  /** Age of the oldest call in flight not yet under way (a stream's first token not sent; 0 when none). */
  oldestInFlightMs: number;
  /** The adaptive limit on calls in flight now. */
  limit: number;
}

export type ShedReason = 'max_in_flight' | 'limit' | 'deadline';
export type ShedDecision = { shed: false; estimateMs: number } | { shed: true; estimateMs: number; retryAfterMs: number; reason: ShedReason };

/**
 * Completions the rate needs before it is trusted. The first few after calls
 * start together come at the pace of one call's latency, not of the stack's
 * throughput: 50 calls started at once on a busy machine, one answered after
 * 2 s, read as 1 call per 2 s — an estimate of 100 s (seen in a bench run).
 */
export const MIN_COMPLETIONS = 10;

/**
 * How long a new call would take to be answered, from what this pod sees:
 * (in flight + 1) ÷ completion rate while calls finish — with fewer than
 * MIN_COMPLETIONS in the window, no more than the age of the oldest call in
 * flight; when none finished, that age: the stack may have stopped. The
 * oldest call is the oldest not yet under way: a stream that has sent its
 * first token may last minutes and says nothing about the stack (one slow
 * call among many that finish does not count either: that is the call's own
 * trouble).
 */
export function estimateAnswerMs(load: LoadSnapshot): number {
  if (load.completions === 0) return load.oldestInFlightMs;
  const byRate = ((load.inFlight + 1) * load.windowMs) / load.completions;
  return load.completions >= MIN_COMPLETIONS ? byRate : Math.min(byRate, load.oldestInFlightMs);
}

export function decideShedding(load: LoadSnapshot, deadlineMs: number, policy: SheddingPolicy): ShedDecision {
  const estimateMs = estimateAnswerMs(load);
  const budgetMs = deadlineMs * policy.shareOfDeadline;
  if (estimateMs > budgetMs) {
    // Come back when the calls ahead have had time to clear: the excess over the budget, at least a second.
    return { shed: true, estimateMs, retryAfterMs: Math.max(1_000, Math.ceil(estimateMs - budgetMs)), reason: 'deadline' };
  }
  // At a limit: come back when the calls in flight have been answered (about the estimate), at least a second.
  const retryAfterMs = Math.max(1_000, Math.ceil(estimateMs));
  if (load.inFlight >= policy.maxInFlight) return { shed: true, estimateMs, retryAfterMs, reason: 'max_in_flight' };
  if (policy.adaptive && load.inFlight >= load.limit) return { shed: true, estimateMs, retryAfterMs, reason: 'limit' };
  return { shed: false, estimateMs };
}

/** How long an answered call waited in our stack: from its admission to its first attempt's start (undefined: no attempt of its own). */
export function waitBeforeFirstAttemptMs(result: { cached: boolean; attempts: Array<{ startedAt: number }> }, admittedAtEpochMs: number): number | undefined {
  const first = result.attempts[0];
  if (result.cached || !first) return undefined;
  return Math.max(0, first.startedAt - admittedAtEpochMs);
}

export interface LoadGaugeOptions {
  windowMs: number;
  /** The adaptive limit's settings, read at each use (the config may reload). */
  limits: () => AdaptiveLimitPolicy;
  /** Monotonic ms. Default performance.now. */
  now?: () => number;
  /** Wall-clock ms, comparable with a worker's attempt start. Default Date.now. */
  epochNow?: () => number;
}

/** One admitted call: `end` when it is over (answered or failed), after `answered(waitMs)` when it got an answer. */
export interface CallInFlight {
  /** Wall-clock ms of the admission, for waitBeforeFirstAttemptMs. */
  admittedAtEpochMs: number;
  /** The call is under way (a stream sent its first token): no longer counted as the oldest waiting call. */
  progressed(): void;
  /** It got an answer (through Temporal) that waited `waitMs` for its first attempt (undefined: no attempt of its own). */
  answered(waitMs: number | undefined): void;
  end(): void;
}

/** Calls in flight, recent completions and the adaptive limit of one pod, for decideShedding. */
export function createLoadGauge(o: LoadGaugeOptions) {
  const { windowMs } = o;
  const now = o.now ?? (() => performance.now());
  const epochNow = o.epochNow ?? (() => Date.now());
  const adaptive = createAdaptiveLimit(o.limits, now);
  /** Admission time of each call in flight, and whether it is under way. */
  const inFlight = new Map<number, { at: number; underWay: boolean }>();
  const completions: number[] = [];
  let next = 0;
  let firstBegin: number | undefined;
  let lastAnsweredAtEpochMs = Number.NEGATIVE_INFINITY;
  /**
   * Spells with no call in flight (the last one open while idle). The completion rate is measured over the busy
   * time of the window: a closed loop of 50 that starts after 10 idle seconds would otherwise see its first
   * completion as 1 call in 10 s — an estimate of minutes — and be refused (a bench run on a busy machine saw 86).
   */
  const idle: Array<{ from: number; to?: number }> = [];
  const trim = (at: number) => {
    while (completions.length && at - completions[0]! > windowMs) completions.shift();
    while (idle.length && idle[0]!.to !== undefined && at - idle[0]!.to > windowMs) idle.shift();
  };
  const idleMsSince = (since: number, at: number) => idle.reduce((sum, s) => sum + Math.max(0, (s.to ?? at) - Math.max(s.from, since)), 0);
  return {
    /** A call is admitted. */
    begin(): CallInFlight {
      const id = next++;
      const at = now();
      firstBegin ??= at;
      const spell = idle.at(-1);
      if (spell && spell.to === undefined) spell.to = at;
      const entry = { at, underWay: false };
      inFlight.set(id, entry);
      adaptive.observeInFlight(inFlight.size);
      return {
        admittedAtEpochMs: epochNow(),
        progressed: () => {
          entry.underWay = true;
        },
        answered: (waitMs) => {
          lastAnsweredAtEpochMs = epochNow();
          if (waitMs !== undefined && inFlight.has(id)) adaptive.report(at, waitMs);
        },
        end: () => {
          if (!inFlight.delete(id)) return;
          const at = now();
          completions.push(at);
          if (inFlight.size === 0) idle.push({ from: at });
          trim(at);
        },
      };
    },
    /** Whether a call got its answer at or after `epochMs` (wall clock): Temporal was answering then. */
    answeredSince: (epochMs: number): boolean => lastAnsweredAtEpochMs >= epochMs,
    snapshot(): LoadSnapshot {
      const at = now();
      trim(at);
      // Map iteration is insertion order: the first waiting entry is the oldest waiting call.
      let oldestAt: number | undefined;
      for (const call of inFlight.values()) {
        if (call.underWay) continue;
        oldestAt = call.at;
        break;
      }
      // The busy part of the window (a pod up for less than the window has seen less of it).
      const since = Math.max(at - windowMs, firstBegin ?? at);
      const busyMs = Math.max(1, at - since - idleMsSince(since, at));
      return {
        inFlight: inFlight.size,
        completions: completions.length,
        windowMs: busyMs,
        oldestInFlightMs: oldestAt === undefined ? 0 : at - oldestAt,
        limit: adaptive.limit(),
      };
    },
  };
}
export type LoadGauge = ReturnType<typeof createLoadGauge>;
