import type { AttemptOutcome, CallEvent } from '../../schemas/call-event';
import type { HealthPolicy, RecentError, UpstreamHealth } from '../../schemas/health';
import { breakerKeyOf, upstreamOfKey } from './breaker-levels';
import { headroomAt, hasHeadroomData, type ObservedRateLimit, rateLimitedUntilAfter } from './rate-limit';
import { addToWindow, type BucketCounts, dropBefore, emptyWindow, isInWindow, type RollingWindow, sumWindow } from './window';

/**
 * What the fold keeps for one upstream and model. Immutable: every fold returns a new
 * value and shares the untouched parts (the recent-errors array, the rate-limit
 * snapshot) with the old one.
 */
export interface UpstreamHealthState {
  /** The model of the events folded here. */
  readonly model?: string;
  readonly window: RollingWindow;
  /** Events before this epoch ms are ignored: set by `clearUpstreamHealth` when the breaker leaves open. */
  readonly floorAt: number;
  readonly consecutiveFailures: number;
  /** `at` of the newest event that moved the consecutive counter; older events never move it. */
  readonly streakAt: number;
  readonly rateLimitStrikes: number;
  readonly rateLimitedUntil?: number;
  readonly latencyEwmaMs?: number;
  readonly ttftEwmaMs?: number;
  readonly rateLimit?: ObservedRateLimit;
  readonly lastEventAt?: number;
  /** Newest last, at most `recentErrorsKept`. */
  readonly recentErrors: readonly RecentError[];
}

/** Every upstream's health per model, as one worker has folded it from `SB_CALLS`. */
export interface HealthState {
  /** By model-level breaker key (`breakerKeyOf(upstream, model)`): windows, latency and rate limits are per model. */
  readonly upstreams: ReadonlyMap<string, UpstreamHealthState>;
  /** Per upstream id: events before this epoch ms are ignored for every model (set when its own breaker leaves open). */
  readonly accountFloors?: ReadonlyMap<string, number>;
}

/** Outcomes that are neither a success nor a failure for the breaker: the caller's, the output's or our own fault. */
export function isNeutralOutcome(outcome: AttemptOutcome): boolean {
  return outcome === 'caller_fault' || outcome === 'invalid_output' || outcome === 'internal';
}

/** Outcomes that count as breaker failures. 429s do not: they have their own cooldown and strike count. */
export function isBreakerFailure(outcome: AttemptOutcome): boolean {
  return outcome === 'retryable' || outcome === 'fatal_upstream';
}

/** True when an attempt was slow: too long overall, or too long to its first token. */
export function isSlowCall(event: Pick<CallEvent, 'latencyMs' | 'ttftMs'>, policy: Pick<HealthPolicy, 'slowCallMs' | 'slowTtftMs'>): boolean {
  return event.latencyMs >= policy.slowCallMs || (event.ttftMs !== undefined && event.ttftMs >= policy.slowTtftMs);
}

/** How an attempt on a half-open upstream settles its probe: true passed, false failed, undefined inconclusive (429, neutral). */
export function probeOutcomeOf(event: Pick<CallEvent, 'outcome'>): boolean | undefined {
  if (event.outcome === 'success') return true;
  if (isBreakerFailure(event.outcome)) return false;
  return undefined;
}

export function emptyHealth(): HealthState {
  return { upstreams: new Map() };
}

export function emptyUpstreamHealth(policy: Pick<HealthPolicy, 'windowMs' | 'bucketMs'>, floorAt = Number.NEGATIVE_INFINITY): UpstreamHealthState {
  return { window: emptyWindow(policy), floorAt, consecutiveFailures: 0, streakAt: Number.NEGATIVE_INFINITY, rateLimitStrikes: 0, recentErrors: [] };
}

/**
 * Folds one `CallEvent` into the registry: O(buckets + upstreams), the input
 * is not mutated. A registry that keeps its own mutable `Map` can call
 * `foldUpstreamEvent` instead, which is O(buckets).
 */
export function foldCallEvent(state: HealthState, event: CallEvent, policy: HealthPolicy): HealthState {
  const key = breakerKeyOf(event.upstream, event.model);
  const floor = state.accountFloors?.get(event.upstream);
  if (floor !== undefined && event.at < floor) return state;
  const before = state.upstreams.get(key);
  const after = foldUpstreamEvent(before, event, policy);
  if (after === before) return state;
  return { ...state, upstreams: new Map(state.upstreams).set(key, after) };
}

/**
 * Folds one event into one upstream's state; returns `state` itself when the
 * event changes nothing (before the floor, or older than the window).
 *
 * Window counts are order-insensitive. The consecutive-failure counter is
 * not, so it follows one rule: only an event at or after the newest event
 * that moved it (`streakAt`) may move it — a success resets it, a failure adds
 * one; an older event still lands in its bucket but leaves the counter alone.
 * A streak whose newest event is older than the window counts from zero.
 * The EWMAs follow arrival order.
 */
export function foldUpstreamEvent(state: UpstreamHealthState | undefined, event: CallEvent, policy: HealthPolicy): UpstreamHealthState {
  const prev = state ?? emptyUpstreamHealth(policy);
  if (event.at < prev.floorAt || !isInWindow(prev.window, event.at, policy)) return prev;

  const { outcome, at } = event;
  const failed = isBreakerFailure(outcome);
  const counted = failed || outcome === 'success';
  const window = addToWindow(prev.window, at, deltaOf(event, counted, failed, policy), policy);

  const inOrder = counted && at >= prev.streakAt;
  // A streak whose last event left the window is over: three failures an hour apart are not "in a row".
  const streakBase = at - prev.streakAt > policy.windowMs ? 0 : prev.consecutiveFailures;
  const consecutiveFailures = inOrder ? (failed ? streakBase + 1 : 0) : prev.consecutiveFailures;
  const streakAt = inOrder ? at : prev.streakAt;

  // A 429 is a new strike only when it came after the previous cooldown ended:
  // concurrent calls that all hit the same limit are one strike, not many.
  let rateLimitStrikes = prev.rateLimitStrikes;
  if (outcome === 'rate_limited' && (prev.rateLimitedUntil === undefined || at >= prev.rateLimitedUntil)) rateLimitStrikes += 1;
  if (outcome === 'success' && inOrder) rateLimitStrikes = 0;

  const until = rateLimitedUntilAfter(event, policy);
  const rateLimitedUntil = until === undefined ? prev.rateLimitedUntil : Math.max(until, prev.rateLimitedUntil ?? until);
  const rateLimit = hasHeadroomData(event.rateLimit) && (!prev.rateLimit || at >= prev.rateLimit.at) ? { snapshot: event.rateLimit, at } : prev.rateLimit;

  const answered = outcome === 'success' || outcome === 'invalid_output' || outcome === 'internal';
  const alpha = policy.latencyEwmaAlpha;
  const latencyEwmaMs = answered ? ewma(prev.latencyEwmaMs, event.latencyMs, alpha) : prev.latencyEwmaMs;
  const ttftEwmaMs = answered && event.ttftMs !== undefined ? ewma(prev.ttftEwmaMs, event.ttftMs, alpha) : prev.ttftEwmaMs;

  const keepsError = failed || outcome === 'rate_limited';
  const recentErrors = keepsError ? withRecentError(prev.recentErrors, errorOf(event), policy.recentErrorsKept) : prev.recentErrors;

  return {
    model: event.model,
    window,
    floorAt: prev.floorAt,
    consecutiveFailures,
    streakAt,
    rateLimitStrikes,
    rateLimitedUntil,
    latencyEwmaMs,
    ttftEwmaMs,
    rateLimit,
    lastEventAt: Math.max(at, prev.lastEventAt ?? at),
    recentErrors,
  };
}

/**
 * Forgets a breaker's evidence from before `since` — call it when the
 * breaker enters half_open or closed, with the breaker's `since`, so failures
 * that already opened it cannot trip it again: for a model-level key that
 * model's, for an upstream id (the account level) every model's of it. Keeps
 * what the vendor said about its limits (cooldown, headroom) and the latency
 * EWMAs. Events older than `since` that arrive later are ignored.
 */
export function clearUpstreamHealth(state: HealthState, key: string, since: number, policy: HealthPolicy): HealthState {
  if (upstreamOfKey(key) !== key) return clearKey(state, key, since, policy);
  const models = [...state.upstreams.keys()].filter((k) => upstreamOfKey(k) === key);
  const cleared = models.reduce((s, k) => clearKey(s, k, since, policy), state);
  // Remembered for models not seen yet too (breakers load before the replay).
  const floor = state.accountFloors?.get(key) ?? Number.NEGATIVE_INFINITY;
  return since <= floor ? cleared : { ...cleared, accountFloors: new Map(state.accountFloors ?? []).set(key, since) };
}

function clearKey(state: HealthState, key: string, since: number, policy: HealthPolicy): HealthState {
  const prev = state.upstreams.get(key) ?? emptyUpstreamHealth(policy);
  if (since <= prev.floorAt) return state;
  const next: UpstreamHealthState = {
    ...prev,
    window: dropBefore(prev.window, since, policy),
    floorAt: since,
    consecutiveFailures: 0,
    streakAt: Math.max(prev.streakAt, since),
    rateLimitStrikes: 0,
    recentErrors: prev.recentErrors.filter((e) => e.at >= since),
  };
  return { ...state, upstreams: new Map(state.upstreams).set(key, next) };
}

/** The health of one upstream and model (`key` = `breakerKeyOf(upstream, model)`) at `now`; a pair never seen gets zeros and no latency or headroom. */
export function upstreamHealth(state: HealthState, key: string, now: number, policy: HealthPolicy): UpstreamHealth {
  const s = state.upstreams.get(key);
  const upstream = upstreamOfKey(key);
  if (!s) return { upstream, ...emptySummary() };
  const counts = sumWindow(s.window, now, policy);
  const oldestAt = now - policy.windowMs;
  return {
    upstream,
    ...(s.model !== undefined ? { model: s.model } : {}),
    ...counts,
    failureRate: rateOf(counts.failures, counts.calls),
    slowCallRate: rateOf(counts.slowCalls, counts.calls),
    consecutiveFailures: now - s.streakAt > policy.windowMs ? 0 : s.consecutiveFailures,
    rateLimitStrikes: s.rateLimitStrikes,
    latencyEwmaMs: s.latencyEwmaMs,
    ttftEwmaMs: s.ttftEwmaMs,
    headroom: headroomAt(s.rateLimit, now),
    rateLimitedUntil: s.rateLimitedUntil !== undefined && s.rateLimitedUntil > now ? s.rateLimitedUntil : undefined,
    lastEventAt: s.lastEventAt,
    recentErrors: s.recentErrors.filter((e) => e.at > oldestAt),
  };
}

/** Every (upstream, model) the state knows, by breaker key, summarised at `now` (for selection and the CLI). */
export function healthByUpstream(state: HealthState, now: number, policy: HealthPolicy): Map<string, UpstreamHealth> {
  return new Map([...state.upstreams.keys()].map((id) => [id, upstreamHealth(state, id, now, policy)]));
}

function emptySummary(): Omit<UpstreamHealth, 'upstream'> {
  return {
    calls: 0,
    failures: 0,
    failureRate: 0,
    consecutiveFailures: 0,
    slowCalls: 0,
    slowCallRate: 0,
    rateLimited: 0,
    rateLimitStrikes: 0,
    neutralCalls: 0,
    recentErrors: [],
  };
}

function deltaOf(event: CallEvent, counted: boolean, failed: boolean, policy: HealthPolicy): Partial<BucketCounts> {
  if (event.outcome === 'rate_limited') return { rateLimited: 1 };
  if (!counted) return { neutralCalls: 1 };
  return { calls: 1, failures: failed ? 1 : 0, slowCalls: isSlowCall(event, policy) ? 1 : 0 };
}

function rateOf(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

function ewma(prev: number | undefined, sample: number, alpha: number): number {
  return prev === undefined ? sample : alpha * sample + (1 - alpha) * prev;
}

function errorOf(event: CallEvent): RecentError {
  return {
    at: event.at,
    outcome: event.outcome,
    ...(event.status !== undefined && { status: event.status }),
    ...(event.errorType !== undefined && { errorType: event.errorType }),
    ...(event.errorMessage !== undefined && { message: event.errorMessage.slice(0, 200) }),
  };
}

/** Inserts by `at` and keeps the newest `kept`; O(kept). */
function withRecentError(errors: readonly RecentError[], error: RecentError, kept: number): readonly RecentError[] {
  if (kept === 0) return errors;
  if (errors.length >= kept && error.at < errors[0]!.at) return errors;
  const next = [...errors];
  let i = next.length;
  while (i > 0 && next[i - 1]!.at > error.at) i -= 1;
  next.splice(i, 0, error);
  return next.length > kept ? next.slice(next.length - kept) : next;
}
