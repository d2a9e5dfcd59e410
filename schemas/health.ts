import { z } from 'zod';
import { AttemptOutcome } from './call-event';
import { DEFAULT_SELECTION_POLICY, TRIP_KINDS } from './workflow-safe';

/** Thresholds of the health fold and the trip policy (config `health`). Defaults in each field's doc. */
export const HealthPolicy = z
  .object({
    /** Length of the rolling window; default 60_000. */
    windowMs: z.number().int().positive().default(60_000),
    /** Width of one bucket of the window; default 5_000. The window holds ceil(windowMs / bucketMs) buckets. */
    bucketMs: z.number().int().positive().default(5_000),
    /** Counted failures in a row that trip the breaker; default 3. */
    consecutiveFailures: z.number().int().positive().default(3),
    /** Failure rate over the window that trips the breaker, once `minCallsForRate` is met; default 0.5. */
    failureRateThreshold: z.number().gt(0).max(1).default(0.5),
    /** Counted calls in the window before any rate (failure or slow) may trip; default 10. */
    minCallsForRate: z.number().int().positive().default(10),
    /** A call at least this long is slow; default 30_000. */
    slowCallMs: z.number().positive().default(30_000),
    /** A streamed call whose first token took at least this long is slow; default 10_000. */
    slowTtftMs: z.number().positive().default(10_000),
    /** Slow-call rate over the window that trips the breaker, once `minCallsForRate` is met; default 0.8. */
    slowCallRateThreshold: z.number().gt(0).max(1).default(0.8),
    /** Weight of the newest sample in the latency and TTFT EWMAs; default 0.2. */
    latencyEwmaAlpha: z.number().gt(0).max(1).default(0.2),
    /** 429s that arrive after the previous cooldown ended (the wait did not help) before a 429 trips; default 5. */
    rateLimitPersistCount: z.number().int().positive().default(5),
    /** Cooldown after a 429 that names no retry-after and no exhausted limit's reset; default 1_000. */
    defaultRetryAfterMs: z.number().nonnegative().default(1_000),
    /** Most of a pool that rate-limit-class trips may hold open (the guard); default 0.5. */
    maxRateLimitEjectionShare: z.number().min(0).max(1).default(0.5),
    /** Errors kept per upstream as evidence for breaker events; default 5. */
    recentErrorsKept: z.number().int().min(0).max(50).default(5),
  })
  .refine((p) => p.windowMs >= p.bucketMs, { message: 'windowMs must be at least bucketMs', path: ['windowMs'] })
  // The fold costs O(buckets) per event; a thousand buckets is already far past any useful resolution.
  .refine((p) => Math.ceil(p.windowMs / p.bucketMs) <= 1_000, { message: 'windowMs / bucketMs must be at most 1000', path: ['bucketMs'] });
export type HealthPolicy = z.infer<typeof HealthPolicy>;
export type HealthPolicyInput = z.input<typeof HealthPolicy>;

/** Timings of the breaker state machine (config `breaker`). */
export const BreakerPolicy = z
  .object({
    /** Cooldown of the first trip; default 5_000. */
    baseCooldownMs: z.number().int().positive().default(5_000),
    /**
     * Cooldown cap before jitter; default 20_000. The supervisor probes by itself when a cooldown ends,
     * so a healed upstream is back within the cap (× 1 + jitterRatio) plus one probe, however often it flapped.
     */
    maxCooldownMs: z.number().int().positive().default(20_000),
    /** Each consecutive trip multiplies the cooldown by this; default 2. */
    cooldownMultiplier: z.number().min(1).default(2),
    /** Cooldowns are spread by ± this share so pods and upstreams do not probe in lockstep; default 0.2. */
    jitterRatio: z.number().min(0).lt(1).default(0.2),
    /** Probe successes in half-open that close the breaker; default 1. */
    halfOpenProbes: z.number().int().positive().default(1),
    /** Probes allowed in flight at once while half-open; default 1. */
    halfOpenMaxConcurrent: z.number().int().positive().default(1),
    /** The supervisor sends a probe of its own when the breaker turns half-open (not only user traffic); default true. */
    supervisorProbes: z.boolean().default(true),
    /** Half-open this long without a probe result (a 429, a probe lost with a worker), a fresh half-open period with fresh probe slots begins; default 30_000. */
    halfOpenTimeoutMs: z.number().int().positive().max(60_000, 'at most 60000: a probe slot is leased for a minute').default(30_000),
    /** Closed this long without a trip, the trip count (and so the cooldown) starts over; default 600_000. */
    stableAfterMs: z.number().int().nonnegative().default(600_000),
  })
  .refine((p) => p.maxCooldownMs >= p.baseCooldownMs, { message: 'maxCooldownMs must be at least baseCooldownMs', path: ['maxCooldownMs'] });
export type BreakerPolicy = z.infer<typeof BreakerPolicy>;
export type BreakerPolicyInput = z.input<typeof BreakerPolicy>;

/** How selection scores closed upstreams (config `selection`). */
export const SelectionPolicy = z.object({
  /** Headroom at or above this share counts as plenty (factor 1); below, the factor falls linearly; default 0.2. */
  headroomComfort: z.number().gt(0).max(1).default(DEFAULT_SELECTION_POLICY.headroomComfort),
  /** Floor of the headroom and latency factors, so a scored upstream is avoided but never unreachable; default 0.01. */
  minFactor: z.number().gt(0).max(1).default(DEFAULT_SELECTION_POLICY.minFactor),
  /** Latency EWMAs below this count as this, so millisecond noise does not shift traffic; default 100. */
  latencyFloorMs: z.number().nonnegative().default(DEFAULT_SELECTION_POLICY.latencyFloorMs),
});
export type SelectionPolicy = z.infer<typeof SelectionPolicy>;

/** Why a breaker should open. `rate_limit_persistent` is the only rate-limit-class kind (see the guard). */
export const TripKind = z.enum(TRIP_KINDS);
export type TripKind = z.infer<typeof TripKind>;

/** What moved a breaker: a trip kind, a failed probe, an operator, or the state machine itself. */
export const BreakerCause = z.enum([...TripKind.options, 'probe_failed', 'probes_succeeded', 'cooldown_elapsed', 'probe_expired', 'operator']);
export type BreakerCause = z.infer<typeof BreakerCause>;

/** One failed attempt kept as evidence; `message` is cut to 200 characters. */
export const RecentError = z.object({
  at: z.number(),
  outcome: AttemptOutcome,
  status: z.number().int().optional(),
  errorType: z.string().optional(),
  message: z.string().max(200).optional(),
});
export type RecentError = z.infer<typeof RecentError>;

/** The window's numbers behind a trip or a transition (zeros when no health data drove it). */
export const HealthEvidence = z.object({
  consecutiveFailures: z.number().int().nonnegative(),
  calls: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  failureRate: z.number().min(0).max(1),
  slowCalls: z.number().int().nonnegative(),
  rateLimited: z.number().int().nonnegative().default(0),
  recentErrors: z.array(RecentError),
  /** When the vendor said it would take calls again (429 cooldown). */
  rateLimitedUntil: z.number().optional(),
  /** When an open breaker turns half-open (set on `opened`). */
  reopenAt: z.number().optional(),
});
export type HealthEvidence = z.infer<typeof HealthEvidence>;

/** One upstream's health for one model as of a moment: what `upstreamHealth` returns and the CLI shows. */
export const UpstreamHealth = z.object({
  upstream: z.string(),
  /** The model these numbers are for (health is kept per upstream and model); absent for a pair never seen. */
  model: z.string().optional(),
  /** Attempts that count for the breaker in the window: success, retryable, fatal_upstream. */
  calls: z.number().int().nonnegative(),
  /** retryable + fatal_upstream in the window. */
  failures: z.number().int().nonnegative(),
  failureRate: z.number().min(0).max(1),
  /** Counted failures in a row, in `at` order (see docs/breakers.md for the cross-pod rule). */
  consecutiveFailures: z.number().int().nonnegative(),
  slowCalls: z.number().int().nonnegative(),
  slowCallRate: z.number().min(0).max(1),
  /** 429s in the window (neither calls nor failures). */
  rateLimited: z.number().int().nonnegative(),
  /** 429s that came after the previous cooldown had ended, since the last success. */
  rateLimitStrikes: z.number().int().nonnegative(),
  /** caller_fault + invalid_output in the window: seen, never counted. */
  neutralCalls: z.number().int().nonnegative(),
  latencyEwmaMs: z.number().nonnegative().optional(),
  ttftEwmaMs: z.number().nonnegative().optional(),
  /** 0..1, the tighter of requests and tokens remaining/limit; absent when the vendor never said. */
  headroom: z.number().min(0).max(1).optional(),
  /** Epoch ms until which the vendor asked us to stay away; absent when that moment has passed. */
  rateLimitedUntil: z.number().optional(),
  lastEventAt: z.number().optional(),
  recentErrors: z.array(RecentError),
});
export type UpstreamHealth = z.infer<typeof UpstreamHealth>;

/** What a worker's registry sends an upstream's breakerSupervisor when the policy says trip. */
export const TripSignal = z.object({
  upstream: z.string(),
  kind: TripKind,
  /** Human-readable, e.g. "3 consecutive failures (last: 503 overloaded)". */
  detail: z.string(),
  evidence: HealthEvidence,
  /**
   * Model of the attempt behind the signal. With `scope` `model` the breaker of that (upstream, model) is meant;
   * with `upstream` (account faults) the upstream's own, and the model is what its probe asks for.
   */
  model: z.string().optional(),
  /** Which breaker the signal is for: the whole upstream (account faults) or one model of it; default upstream. */
  scope: z.enum(['upstream', 'model']).optional(),
  /** Epoch ms of the newest event behind the signal; a supervisor ignores signals older than its current state. */
  evidenceAt: z.number(),
  /** Epoch ms when the policy decided. */
  at: z.number(),
});
export type TripSignal = z.infer<typeof TripSignal>;

export const BreakerStateKind = z.enum(['closed', 'open', 'half_open', 'forced_open', 'forced_closed']);
export type BreakerStateKind = z.infer<typeof BreakerStateKind>;

/** The value of KV `sb_breakers/<upstreamId>`; its single writer is the upstream's breakerSupervisor. */
export const BreakerState = z.object({
  upstream: z.string(),
  /** The model of a model-level breaker; absent for the upstream's own (account-level) breaker. */
  model: z.string().optional(),
  state: BreakerStateKind,
  /** Epoch ms when this state began. */
  since: z.number(),
  /** Epoch ms when an open breaker turns half-open. */
  reopenAt: z.number().optional(),
  /** Trips since the breaker was last stable (closed for `stableAfterMs`); drives the cooldown. */
  consecutiveTrips: z.number().int().nonnegative(),
  reason: z.string().optional(),
  cause: BreakerCause.optional(),
  /** Half-open only: probes allowed in flight at once. */
  probeBudget: z.number().int().nonnegative().optional(),
  /** Half-open only: probes that have succeeded so far. */
  probeSuccesses: z.number().int().nonnegative().optional(),
  /** Bumped on every change, so readers can drop a stale copy. */
  revision: z.number().int().nonnegative().default(0),
});
export type BreakerState = z.infer<typeof BreakerState>;

export const BreakerTransition = z.enum(['opened', 'half_open', 'closed', 'forced_open', 'forced_closed']);
export type BreakerTransition = z.infer<typeof BreakerTransition>;

/** Published on `sb.breaker.<upstreamId>` for every transition. */
export const BreakerEvent = z.object({
  upstream: z.string(),
  /** Set for a model-level breaker; absent for the upstream's own. */
  model: z.string().optional(),
  transition: BreakerTransition,
  from: BreakerStateKind,
  to: BreakerStateKind,
  at: z.number(),
  reason: z.string(),
  cause: BreakerCause,
  /** The `revision` of the state this transition produced. */
  revision: z.number().int().nonnegative(),
  evidence: HealthEvidence,
});
export type BreakerEvent = z.infer<typeof BreakerEvent>;

/** What the breaker state machine reacts to (the supervisor's signals and timer). */
export const BreakerInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('trip'), signal: TripSignal }),
  z.object({ kind: z.literal('cooldown_elapsed') }),
  /** `revision`: the half-open revision the probe was sent under; a result for another revision is stale and ignored. */
  z.object({ kind: z.literal('probe_result'), ok: z.boolean(), error: RecentError.optional(), revision: z.number().int().nonnegative().optional() }),
  /** The supervisor's half-open timer: no probe result for `revision` within `halfOpenTimeoutMs`. */
  z.object({ kind: z.literal('probe_expired'), revision: z.number().int().nonnegative() }),
  z.object({ kind: z.literal('operator'), action: z.enum(['open', 'close', 'auto']), reason: z.string() }),
]);
export type BreakerInput = z.infer<typeof BreakerInput>;

/** The supervisor's own half-open probe: one small request through the ordinary attempt path, holding a slot of `revision`. */
export const SupervisorProbe = z.object({
  /** Key of the half-open breaker: the upstream's own (its id) or one model's. */
  key: z.string(),
  upstream: z.string(),
  /** The model asked for; default: the first model of a route entry this upstream serves. */
  model: z.string().optional(),
  revision: z.number().int().nonnegative(),
  budget: z.number().int().positive(),
});
export type SupervisorProbe = z.infer<typeof SupervisorProbe>;

/** What the supervisor's probe found: not sent (every slot of the revision taken), or its verdict (undefined: a 429 or another inconclusive answer). */
export const ProbeVerdict = z.object({
  sent: z.boolean(),
  ok: z.boolean().optional(),
  error: RecentError.optional(),
  reason: z.string(),
});
export type ProbeVerdict = z.infer<typeof ProbeVerdict>;
