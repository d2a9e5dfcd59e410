import type {
  BreakerCause,
  BreakerEvent,
  BreakerInput,
  BreakerPolicy,
  BreakerState,
  BreakerTransition,
  HealthEvidence,
  TripSignal,
} from '../../schemas/health';
import { cooldownForTrip, emptyEvidence } from './trip-policy';

/**
 * The breaker's next state, and the event to publish when it moved. When
 * nothing changes, `state` is the very object passed in (compare by
 * reference to skip the KV write). A changed state without an event (a probe
 * success short of `halfOpenProbes`) still needs writing.
 */
export interface BreakerStep {
  readonly state: BreakerState;
  readonly event?: BreakerEvent;
}

/** A breaker no one has tripped yet. */
/** A breaker no one has tripped yet: the upstream's own, or one model's when `model` is given. */
export function initialBreakerState(upstream: string, now: number, model?: string): BreakerState {
  return { upstream, ...(model !== undefined ? { model } : {}), state: 'closed', since: now, consecutiveTrips: 0, revision: 0 };
}

/**
 * The breaker state machine, pure (the supervisor passes `now` and
 * `random01` from the workflow's deterministic clock and random):
 *
 *   closed ──trip──► open ──cooldown_elapsed (now ≥ reopenAt)──► half_open
 *   half_open ──probe ok × halfOpenProbes──► closed
 *   half_open ──probe failed, or trip──► open (one more trip: longer cooldown)
 *   half_open ──probe_expired (no verdict in halfOpenTimeoutMs)──► half_open (a new revision: fresh probe slots)
 *   any ──operator open/close──► forced_open / forced_closed (ignore trips, timers, probes)
 *   forced_open ──operator auto──► half_open;  forced_closed ──operator auto──► closed
 *
 * Harmless no-ops: a trip while open or forced (duplicates from many pods), a
 * trip whose evidence predates the current state, a timer that fires before
 * `reopenAt` (a stale timer of an earlier open), a probe result outside
 * half_open or for another half-open revision, a probe_expired of an older
 * revision, `auto` when not forced.
 */
export function transitionBreaker(state: BreakerState, input: BreakerInput, policy: BreakerPolicy, now: number, random01: number): BreakerStep {
  switch (input.kind) {
    case 'trip': {
      const { signal } = input;
      const reacts = state.state === 'closed' || state.state === 'half_open';
      if (!reacts || !isSignalFor(signal, state) || signal.evidenceAt < state.since) return { state };
      // A persistent 429 stays open at least until the vendor's own reset.
      const notBefore = signal.kind === 'rate_limit_persistent' ? signal.evidence.rateLimitedUntil : undefined;
      return open(state, { cause: signal.kind, reason: signal.detail, evidence: signal.evidence, notBefore }, policy, now, random01);
    }
    case 'cooldown_elapsed': {
      if (state.state !== 'open' || (state.reopenAt !== undefined && now < state.reopenAt)) return { state };
      return halfOpen(state, 'cooldown_elapsed', 'cooldown elapsed', policy, now);
    }
    case 'probe_result': {
      if (state.state !== 'half_open' || (input.revision !== undefined && input.revision !== state.revision)) return { state };
      if (!input.ok) {
        const evidence = { ...emptyEvidence(), failures: 1, failureRate: 1, calls: 1, consecutiveFailures: 1, recentErrors: input.error ? [input.error] : [] };
        const what = input.error ? [input.error.status, input.error.errorType, input.error.message].filter((p) => p !== undefined).join(' ') : '';
        return open(state, { cause: 'probe_failed', reason: what ? `probe failed: ${what}` : 'probe failed', evidence }, policy, now, random01);
      }
      const probeSuccesses = (state.probeSuccesses ?? 0) + 1;
      if (probeSuccesses < policy.halfOpenProbes) return { state: { ...state, probeSuccesses, revision: state.revision + 1 } };
      return move(state, 'closed', {
        state: 'closed',
        since: now,
        cause: 'probes_succeeded',
        reason: `${probeSuccesses} probe(s) succeeded`,
      });
    }
    case 'probe_expired': {
      // No verdict in time (429s, a probe lost with its worker): a fresh period, with fresh probe slots.
      if (state.state !== 'half_open' || input.revision !== state.revision) return { state };
      return halfOpen(state, 'probe_expired', 'no probe result within the half-open timeout; probing again', policy, now);
    }
    case 'operator': {
      const { action, reason } = input;
      if (action === 'open') {
        if (state.state === 'forced_open') return { state };
        return move(state, 'forced_open', { state: 'forced_open', since: now, cause: 'operator', reason });
      }
      if (action === 'close') {
        if (state.state === 'forced_closed') return { state };
        return move(state, 'forced_closed', { state: 'forced_closed', since: now, cause: 'operator', reason });
      }
      // Back to automatic: an upstream an operator had taken out is probed before it gets full traffic.
      if (state.state === 'forced_open') return halfOpen(state, 'operator', reason, policy, now);
      if (state.state === 'forced_closed') return move(state, 'closed', { state: 'closed', since: now, cause: 'operator', reason });
      return { state };
    }
  }
}

interface Opening {
  cause: BreakerCause;
  reason: string;
  evidence: HealthEvidence;
  /** Epoch ms the breaker must stay open until at least. */
  notBefore?: number;
}

function open(state: BreakerState, opening: Opening, policy: BreakerPolicy, now: number, random01: number): BreakerStep {
  // A trip long after the last one starts the cooldown ladder over.
  const stable = state.state === 'closed' && now - state.since >= policy.stableAfterMs;
  const consecutiveTrips = (stable ? 0 : state.consecutiveTrips) + 1;
  const reopenAt = Math.max(now + cooldownForTrip(consecutiveTrips, policy, random01), opening.notBefore ?? 0);
  return move(
    state,
    'opened',
    { state: 'open', since: now, reopenAt, consecutiveTrips, cause: opening.cause, reason: opening.reason },
    { ...opening.evidence, reopenAt },
  );
}

function halfOpen(state: BreakerState, cause: BreakerCause, reason: string, policy: BreakerPolicy, now: number): BreakerStep {
  return move(state, 'half_open', {
    state: 'half_open',
    since: now,
    cause,
    reason,
    probeBudget: policy.halfOpenMaxConcurrent,
    probeSuccesses: 0,
  });
}

type Change = Pick<BreakerState, 'state' | 'since' | 'cause' | 'reason'> &
  Partial<Pick<BreakerState, 'reopenAt' | 'consecutiveTrips' | 'probeBudget' | 'probeSuccesses'>>;

/** Builds the next state from scratch (so half-open and open fields never leak into other states) and its event. */
function move(prev: BreakerState, transition: BreakerTransition, change: Change, evidence: HealthEvidence = emptyEvidence()): BreakerStep {
  const state: BreakerState = {
    upstream: prev.upstream,
    ...(prev.model !== undefined ? { model: prev.model } : {}),
    consecutiveTrips: prev.consecutiveTrips,
    ...change,
    revision: prev.revision + 1,
  };
  const event: BreakerEvent = {
    upstream: prev.upstream,
    ...(prev.model !== undefined ? { model: prev.model } : {}),
    transition,
    from: prev.state,
    to: state.state,
    at: state.since,
    reason: state.reason ?? transition,
    cause: state.cause ?? 'operator',
    revision: state.revision,
    evidence,
  };
  return { state, event };
}

/** A trip for this breaker: the same upstream, and for a model-level breaker a model-scoped signal of its model. */
function isSignalFor(signal: TripSignal, state: BreakerState): boolean {
  if (signal.upstream !== state.upstream) return false;
  if (state.model === undefined) return signal.scope !== 'model';
  return signal.scope === 'model' && signal.model === state.model;
}
