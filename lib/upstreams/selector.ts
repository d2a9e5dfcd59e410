/**
 * Health-aware choice of an attempt's upstream: the pure `selectUpstream`
 * over the registry's local view, plus the cluster-wide probe budget of
 * half-open breakers (probe-leases.ts).
 */
import type { NatsConnection } from 'nats';
import { breakerKeyOf, breakerKeyOfState, isNoUpstream, type NoUpstream, selectUpstream, type UpstreamChoice } from '../health';
import type { BreakerState } from '../../schemas/health';
import type { PooledUpstream, UpstreamPool } from './pool';
import type { SwitchboardConfig } from '../../schemas/config';
import { openProbeLeases, type ProbeLeases } from '../health-registry/probe-leases';
import type { HealthView } from '../health-registry/registry';
import { createSmoothDraw } from './smooth-draw';

export interface SelectedUpstream {
  upstream: PooledUpstream;
  /** `supervisor_probe`: the breakerSupervisor's own probe (its verdict goes back as the activity's result). */
  mode: UpstreamChoice['mode'] | 'supervisor_probe';
  reason: string;
  /** A half-open probe: the key of the breaker it probes (the upstream's own or its model's; its result goes there). */
  probeKey?: string;
  /** A half-open probe: the breaker revision whose slot it holds (its result is for that revision only). */
  probeRevision?: number;
  /** Ends this worker's count of the probe in flight (no-op for ordinary picks); the cluster-wide slot stays spent. */
  release(): Promise<void>;
}

/**
 * The upstream `upstreamId` for the supervisor's probe of `model`, holding a slot of half-open `revision` of the
 * breaker `key` (the upstream's own or the model's); none when the slots are taken.
 */
export type ProbePicker = (key: string, upstreamId: string, model: string, revision: number, budget: number) => Promise<SelectedUpstream | NoUpstream>;

export function createProbePicker(options: { pool: UpstreamPool; leases: ProbeLeases }): ProbePicker {
  return async (key, upstreamId, model, revision, budget) => {
    const provider = upstreamId.slice(0, upstreamId.indexOf('/'));
    const upstream = options.pool.upstreams(provider, model).find((u) => u.id === upstreamId);
    if (!upstream) return { none: true, reason: `${upstreamId} does not serve ${model} in this config` };
    const lease = await options.leases.take(key, revision, budget);
    if (lease === undefined) return { none: true, reason: `every probe slot of ${key} revision ${revision} is taken` };
    return {
      upstream,
      mode: 'supervisor_probe',
      reason: `supervisor probe of revision ${revision}`,
      probeKey: key,
      probeRevision: revision,
      release: async () => undefined,
    };
  };
}

/** Picks among the upstreams of `provider` that serve `model`. */
export type HealthAwarePicker = (provider: string, model: string, exclude: ReadonlySet<string>, allowPanic: boolean) => Promise<SelectedUpstream | NoUpstream>;

export async function createHealthAwarePicker(options: {
  nats: NatsConnection;
  cluster?: string;
  /** Read on every pick, so a config reload's selection and probe settings apply at once. */
  config: () => SwitchboardConfig;
  pool: UpstreamPool;
  view: HealthView;
  random01?: () => number;
  /** Default: the cluster's lease bucket. */
  leases?: ProbeLeases;
}): Promise<HealthAwarePicker> {
  const { config, pool, view } = options;
  const random01 = options.random01 ?? Math.random;
  const leases = options.leases ?? (await openProbeLeases(options.nats, options.cluster));
  const inFlight = new Map<string, number>();
  const draws = new Map<string, ReturnType<typeof createSmoothDraw>>();
  // One round-robin per candidate set: a model served by part of the pool has its own.
  const drawFor = (key: string) => draws.get(key) ?? draws.set(key, createSmoothDraw()).get(key)!;

  // The slot belongs to the half-open breaker itself: the upstream's own, or the model's.
  const takeProbeSlot = async (breaker: BreakerState | undefined, upstream: string, model: string) => {
    const key = breaker ? breakerKeyOfState(breaker) : breakerKeyOf(upstream, model);
    const revision = breaker?.revision ?? 0;
    const lease = await leases.take(key, revision, breaker?.probeBudget ?? config().breaker.halfOpenMaxConcurrent);
    return lease === undefined ? undefined : { key, revision };
  };

  return async (provider, model, exclude, allowPanic) => {
    const skipped = new Set(exclude);
    for (;;) {
      const now = Date.now();
      const cfg = config();
      const candidates = pool.upstreams(provider, model).map((u) => ({ id: u.id, weight: u.weight }));
      const health = new Map(candidates.map((c) => [c.id, view.healthOf(c.id, model, now)]));
      // Each candidate obeys the stricter of its own breaker and its breaker for this model.
      const breakers = new Map(
        candidates.flatMap((c) => {
          const breaker = view.breakerFor(c.id, model);
          return breaker ? [[c.id, breaker] as const] : [];
        }),
      );
      const choice = selectUpstream({
        candidates,
        breakers,
        health,
        exclude: skipped,
        probesInFlight: inFlight,
        now,
        random01: random01(),
        allowPanic,
        policy: cfg.selection,
        halfOpenMaxConcurrent: cfg.breaker.halfOpenMaxConcurrent,
        draw: drawFor(`${provider}\u0000${model}`),
      });
      if (isNoUpstream(choice)) return choice;
      const upstream = pool.upstreams(provider).find((u) => u.id === choice.upstream)!;
      if (choice.mode !== 'half_open_probe') return { upstream, mode: choice.mode, reason: choice.reason, release: async () => undefined };
      const slot = await takeProbeSlot(breakers.get(upstream.id), upstream.id, model);
      if (!slot) {
        // The cluster's probe budget is spent: this upstream is not drawable for this attempt.
        skipped.add(upstream.id);
        continue;
      }
      inFlight.set(upstream.id, (inFlight.get(upstream.id) ?? 0) + 1);
      return {
        upstream,
        mode: choice.mode,
        reason: choice.reason,
        probeKey: slot.key,
        probeRevision: slot.revision,
        release: async () => {
          inFlight.set(upstream.id, Math.max(0, (inFlight.get(upstream.id) ?? 1) - 1));
        },
      };
    }
  };
}
