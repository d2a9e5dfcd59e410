/**
 * What the llmCall workflow does after a failed attempt: retry the same
 * vendor (another upstream first), fall back to the next route entry, wait
 * for a rate limit to lift, or give up. Pure and deterministic — it runs
 * inside workflow code; randomness and time come in as arguments.
 */
import type { AttemptFailureDetails, CallPlan } from '../../schemas/call';
import { type AttemptErrorType, failureTypes, type ValidationErrorType } from '../../contracts/failures';

export interface RetryState {
  entryIndex: number;
  attemptsOnEntry: number;
  totalAttempts: number;
  /** Upstreams unusable for the rest of the call (fatal errors; silent or stalled past their class budget), by provider. */
  fatal: Record<string, string[]>;
  /** Silent and stalled failures per upstream so far in this call (see `retry.sameUpstreamRetries`). */
  classFailures?: Partial<Record<FailureClass, Record<string, number>>>;
  /** Upstreams whose short `retry-after` this call already waited out (once each). */
  shortWaited?: string[];
  /** Upstreams cooling after a 429, by upstream: epoch ms when usable again. */
  coolingUntil: Record<string, number>;
  /** Upstreams that failed with a retryable error on the current entry: tried last. */
  failedOnEntry: string[];
  /**
   * Set once the last entry of the route came back `no_upstream` (every
   * breaker out): from then on attempts may pick the upstream nearest to
   * recovery (the panic policy, docs/breakers.md), from the primary again.
   */
  panic?: boolean;
}

export type NextStep =
  { kind: 'attempt'; entryIndex: number; exclude: string[]; delayMs: number; reason: string } | { kind: 'give_up'; failureType: string; reason: string };

export function initialRetryState(): RetryState {
  return { entryIndex: 0, attemptsOnEntry: 0, totalAttempts: 0, fatal: {}, coolingUntil: {}, failedOnEntry: [] };
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base × coeff^(n-1))]. */
export function backoffMs(attempt: number, retry: CallPlan['retry'], random01: number): number {
  const ceiling = Math.min(retry.maxIntervalMs, retry.initialIntervalMs * retry.backoffCoefficient ** Math.max(0, attempt - 1));
  return Math.round(ceiling * random01);
}

/** A 429 without retry-after: back off, but never below this (or the plan's `rateLimitWaitMs`), so a storm stays at a few attempts a second. */
export const MIN_RATE_LIMIT_BACKOFF_MS = 250;

/**
 * Failure classes with a budget of their own: `silent` — no response headers
 * (the request timed out) or no first token in time; `stall` — a stream that
 * stopped. Undefined for everything else (transient 5xx, resets, …).
 */
export type FailureClass = 'silent' | 'stall';

/**
 * What the plan makes of each kind of failure beyond its outcome. Every kind
 * is named here — a new one in contracts/failures.ts does not compile until
 * it is — and `by_outcome` means the outcome alone decides (backoff and
 * retry, fall back, or give up as the caller's fault).
 */
type ErrorTypeRule = FailureClass | 'larger_context' | 'content_policy' | 'model_missing' | 'repairs_exhausted' | 'by_outcome';
const errorTypeRules: Record<Exclude<AttemptErrorType, ValidationErrorType>, ErrorTypeRule> = {
  timeout: 'silent',
  first_token_timeout: 'silent',
  stream_stalled: 'stall',
  context_length_exceeded: 'larger_context',
  content_policy_violation: 'content_policy',
  model_not_found: 'model_missing',
  repairs_exhausted: 'repairs_exhausted',
  rate_limit_exceeded: 'by_outcome',
  insufficient_quota: 'by_outcome',
  authentication: 'by_outcome',
  account_locked: 'by_outcome',
  billing: 'by_outcome',
  permission_denied: 'by_outcome',
  invalid_request: 'by_outcome',
  overloaded: 'by_outcome',
  server_error: 'by_outcome',
  conflict: 'by_outcome',
  stream_interrupted: 'by_outcome',
  malformed_response: 'by_outcome',
  aborted: 'by_outcome',
  connection: 'by_outcome',
  unknown: 'by_outcome',
  json_parse: 'by_outcome',
  no_upstream: 'by_outcome',
  second_look_rejected: 'by_outcome',
  internal_check: 'by_outcome',
  activity_timeout: 'by_outcome',
  activity_failed: 'by_outcome',
  stream_diverged: 'by_outcome',
};

export function ruleOf(errorType: AttemptErrorType): ErrorTypeRule {
  return errorType.startsWith('validation_') ? 'by_outcome' : errorTypeRules[errorType as Exclude<AttemptErrorType, ValidationErrorType>];
}

export function failureClassOf(failure: Pick<AttemptFailureDetails, 'outcome' | 'errorType'>): FailureClass | undefined {
  if (failure.outcome !== 'retryable') return undefined;
  const rule = ruleOf(failure.errorType);
  return rule === 'silent' || rule === 'stall' ? rule : undefined;
}

interface Decide {
  plan: CallPlan;
  state: RetryState;
  failure: AttemptFailureDetails;
  now: number;
  deadlineAt: number;
  random01: number;
}

function excludeFor(state: RetryState, provider: string, now: number, alsoAvoid: string[] = []): string[] {
  const cooling = Object.entries(state.coolingUntil)
    .filter(([upstream, until]) => until > now && upstream.startsWith(`${provider}/`))
    .map(([upstream]) => upstream);
  return [...new Set([...(state.fatal[provider] ?? []), ...cooling, ...alsoAvoid])];
}

function nextEntry(plan: CallPlan, state: RetryState, from: number, accept: (index: number) => boolean): number | undefined {
  for (let i = from + 1; i < plan.entries.length; i++) {
    const entry = plan.entries[i]!;
    const usable = entry.upstreamCount - (state.fatal[entry.provider]?.length ?? 0);
    if (usable > 0 && accept(i)) return i;
  }
  return undefined;
}

/** Decides the step after `failure`; returns the new state too (the input is not changed). */
export function planNextAttempt({ plan, state: previous, failure, now, deadlineAt, random01 }: Decide): { state: RetryState; step: NextStep } {
  const state: RetryState = {
    ...previous,
    fatal: { ...previous.fatal },
    coolingUntil: { ...previous.coolingUntil },
    failedOnEntry: [...previous.failedOnEntry],
    classFailures: { silent: { ...previous.classFailures?.silent }, stall: { ...previous.classFailures?.stall } },
    shortWaited: [...(previous.shortWaited ?? [])],
  };
  const entry = plan.entries[state.entryIndex]!;
  const give = (failureType: string, reason: string) => ({ state, step: { kind: 'give_up' as const, failureType, reason } });
  const moveTo = (index: number, reason: string, delayMs = 0): { state: RetryState; step: NextStep } => {
    state.entryIndex = index;
    state.attemptsOnEntry = 0;
    state.failedOnEntry = [];
    const target = plan.entries[index]!;
    return { state, step: { kind: 'attempt', entryIndex: index, exclude: excludeFor(state, target.provider, now + delayMs), delayMs, reason } };
  };
  /** Another attempt on the same entry after `delayMs`, avoiding `exclude`. */
  const stay = (exclude: string[], delayMs: number, reason: string): { state: RetryState; step: NextStep } => ({
    state,
    step: { kind: 'attempt', entryIndex: state.entryIndex, exclude, delayMs, reason },
  });
  const fallBack = (reason: string) => {
    const index = nextEntry(plan, state, state.entryIndex, () => true);
    return index === undefined
      ? give(failureTypes.exhausted, `${reason}; no fallback left in the route`)
      : moveTo(index, `${reason}; falling back to ${plan.entries[index]!.provider}/${plan.entries[index]!.model}`);
  };

  if (failure.outcome === 'caller_fault') {
    const rule = ruleOf(failure.errorType);
    if (rule === 'larger_context') {
      const size = entry.contextTokens ?? 0;
      const larger = nextEntry(plan, state, state.entryIndex, (i) => (plan.entries[i]!.contextTokens ?? 0) > size);
      return larger === undefined
        ? give(failureTypes.contextLength, `context length exceeded on ${entry.model} and no larger-context entry in the route: ${failure.message}`)
        : moveTo(larger, `context length exceeded on ${entry.model}; trying the larger ${plan.entries[larger]!.model}`);
    }
    if (rule === 'content_policy') return give(failureTypes.contentPolicy, failure.message);
    if (rule === 'model_missing') return fallBack(`model ${entry.model} not found at ${entry.provider}`);
    return give(failureTypes.invalidRequest, failure.message);
  }

  // Ours, not the vendor's: another upstream would answer and fail the same way (and be paid for it).
  if (failure.outcome === 'internal')
    return give(failureTypes.internal, `internal error in Switchboard after ${failure.upstream ?? entry.provider} answered: ${failure.message}`);

  if (state.totalAttempts >= plan.retry.maxAttempts) return give(failureTypes.exhausted, `gave up after ${state.totalAttempts} attempts`);

  if (failure.outcome === 'no_upstream') {
    const reason = `no usable upstream for ${entry.provider}`;
    if (state.panic || nextEntry(plan, state, state.entryIndex, () => true) !== undefined) return fallBack(reason);
    state.panic = true;
    return moveTo(0, `${reason}; every vendor of the route is out: panic, trying the upstream nearest to recovery`);
  }

  const upstream = failure.upstream;
  if (failure.outcome === 'fatal_upstream' && upstream) {
    state.fatal[entry.provider] = [...new Set([...(state.fatal[entry.provider] ?? []), upstream])];
  }
  if (failure.outcome === 'rate_limited' && upstream) {
    // Without retry-after, at least as long as selection avoids the upstream (else the next pick finds nothing).
    const waitMs =
      failure.retryAfterMs ?? Math.max(plan.rateLimitWaitMs ?? MIN_RATE_LIMIT_BACKOFF_MS, backoffMs(state.attemptsOnEntry + 1, plan.retry, random01));
    state.coolingUntil[upstream] = now + waitMs;
  }
  // Retrying a silent or stalled upstream only multiplies the wait: past its class budget it is out for this call.
  const failureClass = failureClassOf(failure);
  let classSpent = false;
  if (failureClass && upstream) {
    const seen = (state.classFailures![failureClass]![upstream] ?? 0) + 1;
    state.classFailures![failureClass]![upstream] = seen;
    const budget = plan.retry.sameUpstreamRetries?.[failureClass] ?? 0;
    if (seen > budget) {
      classSpent = true;
      state.fatal[entry.provider] = [...new Set([...(state.fatal[entry.provider] ?? []), upstream])];
    }
  }

  const usableNow = entry.upstreamCount - excludeFor(state, entry.provider, now).length;
  const entryBudgetLeft = state.attemptsOnEntry < plan.retry.maxAttemptsPerEntry;

  if (classSpent) {
    const what = `${upstream} was ${failureClass === 'silent' ? 'silent' : 'stalled'} (${failure.errorType})`;
    if (usableNow > 0 && entryBudgetLeft) return stay(excludeFor(state, entry.provider, now), 0, `${what}; another upstream of ${entry.provider} at once`);
    return fallBack(what);
  }

  if (failure.outcome === 'fatal_upstream') {
    if (usableNow > 0 && entryBudgetLeft)
      return stay(excludeFor(state, entry.provider, now), 0, `${upstream} is unusable (${failure.errorType}); another upstream of ${entry.provider}`);
    return fallBack(`every ${entry.provider} upstream failed fatally`);
  }

  if (failure.outcome === 'rate_limited') {
    if (usableNow > 0 && entryBudgetLeft)
      return stay(excludeFor(state, entry.provider, now), 0, `${upstream} is rate-limited; another upstream of ${entry.provider}`);
    // A short retry-after is waited out once per upstream rather than leaving the model the caller asked for.
    const shortWaitMs = failure.retryAfterMs;
    const shortEnough = shortWaitMs !== undefined && shortWaitMs <= (plan.retry.shortRetryAfterMs ?? 0) && now + shortWaitMs < deadlineAt;
    if (upstream && shortEnough && !state.shortWaited!.includes(upstream)) {
      state.shortWaited!.push(upstream);
      state.attemptsOnEntry = Math.max(0, state.attemptsOnEntry - 1);
      return stay(
        excludeFor(state, entry.provider, now + shortWaitMs),
        shortWaitMs,
        `${upstream} asked for ${shortWaitMs} ms (retry-after); waiting once rather than falling back`,
      );
    }
    const fallback = nextEntry(plan, state, state.entryIndex, () => true);
    if (fallback !== undefined)
      return moveTo(fallback, `every ${entry.provider} upstream is rate-limited; falling back to ${plan.entries[fallback]!.provider}`);
    const soonest = Math.min(
      ...Object.entries(state.coolingUntil)
        .filter(([u]) => u.startsWith(`${entry.provider}/`))
        .map(([, until]) => until),
    );
    const waitMs = Math.max(0, soonest - now);
    if (waitMs > plan.retry.maxRetryAfterWaitMs)
      return give(failureTypes.exhausted, `rate-limited for ${waitMs} ms, longer than the ${plan.retry.maxRetryAfterWaitMs} ms we wait`);
    if (now + waitMs >= deadlineAt) return give(failureTypes.deadline, `rate-limited until after the call's deadline`);
    state.attemptsOnEntry = Math.max(0, state.attemptsOnEntry - 1); // waiting out a 429 is not a failed try of the vendor
    return stay(excludeFor(state, entry.provider, now + waitMs), waitMs, `waiting ${waitMs} ms for ${entry.provider}'s rate limit`);
  }

  // retryable, invalid_output
  if (failure.outcome === 'invalid_output' && ruleOf(failure.errorType) === 'repairs_exhausted') {
    return fallBack(`answers from ${entry.provider}/${entry.model} still failed validation after repair`);
  }
  if (!entryBudgetLeft) return fallBack(`${state.attemptsOnEntry} attempts failed on ${entry.provider}/${entry.model}`);
  const delayMs = backoffMs(state.attemptsOnEntry, plan.retry, random01);
  if (now + delayMs >= deadlineAt) return give(failureTypes.deadline, `the call's deadline leaves no time to retry`);
  // Move through the pool: upstreams that already failed on this entry are avoided while untried ones remain.
  if (upstream && !state.failedOnEntry.includes(upstream)) state.failedOnEntry.push(upstream);
  const base = excludeFor(state, entry.provider, now + delayMs);
  const untried = entry.upstreamCount - new Set([...base, ...state.failedOnEntry]).size;
  const exclude = untried > 0 ? excludeFor(state, entry.provider, now + delayMs, state.failedOnEntry) : base;
  return stay(exclude, delayMs, `${failure.errorType} on ${upstream ?? entry.provider}; retrying in ${delayMs} ms`);
}

/**
 * Waits shorter than this go inside the next attempt (a plain sleep in the
 * activity, precise to a few milliseconds) instead of a workflow timer: the
 * Temporal dev server fires timers on a ~1 s tick (a 55 ms backoff took
 * ~990 ms), so a sub-second backoff would mean what it says only there.
 * Longer waits stay durable timers (they survive a worker crash).
 */
export const IN_ATTEMPT_WAIT_MAX_MS = 1_000;

/** Where the wait before the next attempt goes: a durable timer, or inside the attempt. */
export function placeWait(delayMs: number): { timerMs: number; inAttemptMs: number } {
  if (delayMs <= 0) return { timerMs: 0, inAttemptMs: 0 };
  return delayMs < IN_ATTEMPT_WAIT_MAX_MS ? { timerMs: 0, inAttemptMs: delayMs } : { timerMs: delayMs, inAttemptMs: 0 };
}

/** Records that an attempt is about to be made. */
export function countAttempt(state: RetryState): RetryState {
  return { ...state, attemptsOnEntry: state.attemptsOnEntry + 1, totalAttempts: state.totalAttempts + 1 };
}
