import type { BreakerState, SelectionPolicy, UpstreamHealth } from '../../schemas/health';
import { DEFAULT_SELECTION_POLICY } from '../../schemas/workflow-safe';

/** Values keyed by upstream id: a Map (e.g. a KV watch's cache) or a plain record. */
export type ById<T> = ReadonlyMap<string, T> | Readonly<Record<string, T>>;

export function lookup<T>(byId: ById<T> | undefined, id: string): T | undefined {
  if (!byId) return undefined;
  if (byId instanceof Map) return byId.get(id);
  return Object.hasOwn(byId, id) ? (byId as Readonly<Record<string, T>>)[id] : undefined;
}

/** One upstream the caller may use, with its configured weight (≤ 0: drained, never picked). */
export interface SelectionCandidate {
  readonly id: string;
  readonly weight: number;
}

export interface SelectionInput {
  /** In preference order; the order only breaks ties. */
  readonly candidates: readonly SelectionCandidate[];
  /** Breaker states from the local watch of `sb_breakers`; a missing one is closed. */
  readonly breakers: ById<BreakerState>;
  /** Health summaries from the local registry; a missing one is neutral. */
  readonly health: ById<UpstreamHealth>;
  /** Upstreams this call already failed on. */
  readonly exclude?: ReadonlySet<string>;
  /** Probes this worker has in flight per half-open upstream. */
  readonly probesInFlight?: ById<number>;
  readonly now: number;
  /** Injected randomness in [0, 1). */
  readonly random01: number;
  /** When nothing can be picked normally, try the upstream nearest to recovery (the panic policy). */
  readonly allowPanic: boolean;
  /** Default `DEFAULT_SELECTION_POLICY` (= `SelectionPolicy.parse({})`). */
  readonly policy?: SelectionPolicy;
  /** Probe budget of a half-open breaker that carries none; default 1. */
  readonly halfOpenMaxConcurrent?: number;
  /**
   * Chooses among the drawable candidates by score, returning an index;
   * default: the cumulative draw with `random01`. A worker passes a smooth
   * weighted round-robin so one pod's picks follow the scores without bursts.
   */
  readonly draw?: (scored: readonly ScoredCandidate[]) => number;
}

export interface ScoredCandidate {
  readonly id: string;
  readonly score: number;
}

export interface UpstreamChoice {
  readonly upstream: string;
  readonly mode: 'closed' | 'half_open_probe' | 'panic';
  readonly reason: string;
}

export interface NoUpstream {
  readonly none: true;
  readonly reason: string;
  /** Earliest epoch ms at which some candidate may become usable (a reopen or a rate-limit reset). */
  readonly retryAt?: number;
}

export type Selection = UpstreamChoice | NoUpstream;

export function isNoUpstream(selection: Selection): selection is NoUpstream {
  return 'none' in selection;
}

const defaultPolicy: SelectionPolicy = DEFAULT_SELECTION_POLICY;

type Standing = { kind: 'draw'; mode: 'closed' | 'half_open_probe'; cooling: boolean } | { kind: 'waiting'; recoveryAt: number } | { kind: 'never' };

/** Where a candidate stands: in the weighted draw, waiting to recover (panic material), or never. */
function standingOf(candidate: SelectionCandidate, input: SelectionInput): Standing {
  if (candidate.weight <= 0 || input.exclude?.has(candidate.id)) return { kind: 'never' };
  const breaker = lookup(input.breakers, candidate.id);
  const until = lookup(input.health, candidate.id)?.rateLimitedUntil;
  const cooling = until !== undefined && until > input.now;
  switch (breaker?.state ?? 'closed') {
    case 'forced_open':
      return { kind: 'never' };
    case 'forced_closed':
      return { kind: 'draw', mode: 'closed', cooling };
    case 'closed':
      return cooling ? { kind: 'waiting', recoveryAt: until } : { kind: 'draw', mode: 'closed', cooling: false };
    case 'half_open': {
      const budget = breaker?.probeBudget ?? input.halfOpenMaxConcurrent ?? 1;
      const inFlight = lookup(input.probesInFlight, candidate.id) ?? 0;
      // A half-open upstream past its probe budget is recovering right now: nearest of all.
      return inFlight < budget && !cooling
        ? { kind: 'draw', mode: 'half_open_probe', cooling: false }
        : { kind: 'waiting', recoveryAt: Math.max(input.now, until ?? input.now) };
    }
    case 'open':
      return { kind: 'waiting', recoveryAt: Math.max(breaker?.reopenAt ?? input.now, until ?? Number.NEGATIVE_INFINITY) };
  }
}

/**
 * Picks an upstream for one attempt.
 * 1. Draw: closed upstreams not in a 429 cooldown, forced_closed ones (always
 *    eligible), and half-open ones with probe budget left (probesInFlight <
 *    probeBudget), drawn with probability proportional to
 *    score = weight × headroomFactor × latencyFactor (see `scoreOf`).
 * 2. Otherwise, with `allowPanic`, the candidate nearest to recovery: smallest
 *    reopenAt (open) or rate-limit reset (cooling); ties go to the larger
 *    weight, then to candidate order. forced_open and excluded upstreams are
 *    never picked, not even in panic.
 * 3. Otherwise none, with `retryAt` when something will recover.
 */
export function selectUpstream(input: SelectionInput): Selection {
  const policy = input.policy ?? defaultPolicy;
  const standings = input.candidates.map((candidate) => ({ candidate, standing: standingOf(candidate, input) }));
  const drawn = standings.flatMap(({ candidate, standing }) => (standing.kind === 'draw' ? [{ candidate, ...standing }] : []));
  const waiting = standings.flatMap(({ candidate, standing }) => (standing.kind === 'waiting' ? [{ candidate, recoveryAt: standing.recoveryAt }] : []));

  if (drawn.length > 0) {
    const refLatencyMs = fastestLatencyMs(
      drawn.map((d) => d.candidate.id),
      input.health,
    );
    const scores = drawn.map((d) => scoreOf(d.candidate, lookup(input.health, d.candidate.id), d.cooling, refLatencyMs, policy));
    const total = scores.reduce((sum, s) => sum + s, 0);
    if (input.draw) {
      const chosen = input.draw(drawn.map((d, i) => ({ id: d.candidate.id, score: scores[i]! })));
      const pick = drawn[Math.min(Math.max(0, Math.floor(chosen)), drawn.length - 1)]!;
      return { upstream: pick.candidate.id, mode: pick.mode, reason: `${pick.mode}: chosen by score among ${drawn.length}` };
    }
    const target = Math.min(Math.max(input.random01, 0), 1) * total;
    let index = 0;
    let acc = scores[0]!;
    while (index < drawn.length - 1 && target >= acc) {
      index += 1;
      acc += scores[index]!;
    }
    const pick = drawn[index]!;
    return {
      upstream: pick.candidate.id,
      mode: pick.mode,
      reason: `${pick.mode}: drawn by score ${round(scores[index]!)} of ${round(total)} among ${drawn.length}`,
    };
  }

  if (waiting.length === 0) return { none: true, reason: 'no candidate: all excluded, drained or forced open' };
  const nearest = waiting.reduce((best, w) =>
    w.recoveryAt < best.recoveryAt || (w.recoveryAt === best.recoveryAt && w.candidate.weight > best.candidate.weight) ? w : best,
  );
  if (input.allowPanic) {
    return {
      upstream: nearest.candidate.id,
      mode: 'panic',
      reason: `panic: every candidate is open or cooling; ${nearest.candidate.id} is nearest to recovery`,
    };
  }
  return { none: true, reason: `every candidate is open or cooling (${waiting.length})`, retryAt: nearest.recoveryAt };
}

/** True when no upstream of the pool can take a call without panic: time to fall back to the next vendor. */
export function isPoolExhausted(input: Omit<SelectionInput, 'random01' | 'allowPanic'>): boolean {
  return input.candidates.every((candidate) => standingOf(candidate, { ...input, random01: 0, allowPanic: false }).kind !== 'draw');
}

/**
 * weight × headroomFactor × latencyFactor, where
 * - headroomFactor = clamp(headroom / headroomComfort, minFactor, 1): plenty
 *   of headroom is 1, near zero is minFactor; unknown is 1 (neutral); a
 *   forced_closed upstream in a 429 cooldown gets minFactor;
 * - latencyFactor = clamp(fastest EWMA in the draw / this EWMA, minFactor, 1):
 *   twice as slow as the fastest gets half the share; unknown is 1.
 */
export function scoreOf(
  candidate: SelectionCandidate,
  health: UpstreamHealth | undefined,
  cooling: boolean,
  refLatencyMs: number | undefined,
  policy: SelectionPolicy,
): number {
  const clamp = (x: number) => Math.min(1, Math.max(policy.minFactor, x));
  const headroomFactor = cooling ? policy.minFactor : health?.headroom === undefined ? 1 : clamp(health.headroom / policy.headroomComfort);
  // Below latencyFloorMs the EWMA measures noise, not the vendor: such upstreams count as equally fast.
  const floor = policy.latencyFloorMs ?? 0;
  const latency = health?.latencyEwmaMs;
  const latencyFactor =
    refLatencyMs === undefined || latency === undefined || latency <= 0 ? 1 : clamp(Math.max(refLatencyMs, floor) / Math.max(latency, floor));
  return candidate.weight * headroomFactor * latencyFactor;
}

function fastestLatencyMs(ids: readonly string[], health: ById<UpstreamHealth>): number | undefined {
  const known = ids.map((id) => lookup(health, id)?.latencyEwmaMs).filter((l): l is number => l !== undefined && l > 0);
  return known.length ? Math.min(...known) : undefined;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
