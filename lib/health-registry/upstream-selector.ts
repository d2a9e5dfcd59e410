/**
 * Health-aware choice of an attempt's upstream: the pure `selectUpstream`
 * over the registry's local view, plus a cluster-wide probe budget for
 * half-open breakers (a lease per probe slot, taken with KV create — a
 * compare-and-set — in `<breakers bucket>_probes`).
 */
import type { KV, NatsConnection } from 'nats';
import { isNoUpstream, type NoUpstream, selectUpstream, type UpstreamChoice } from '../health';
import type { PooledUpstream, UpstreamPool } from '../routing/upstream-pool';
import type { SwitchboardConfig } from '../../schemas/config';
import { probeLeaseBucket } from '../../workflows/definitions';
import type { HealthView } from './registry';
import { createSmoothDraw } from './smooth-draw';

export interface SelectedUpstream {
  upstream: PooledUpstream;
  mode: UpstreamChoice['mode'];
  reason: string;
  /** Gives the probe slot back (no-op for ordinary picks). */
  release(): Promise<void>;
}

/** Picks among the upstreams of `provider` that serve `model`. */
export type HealthAwarePicker = (provider: string, model: string, exclude: ReadonlySet<string>, allowPanic: boolean) => Promise<SelectedUpstream | NoUpstream>;

/** Probe leases expire on their own, so a worker that dies mid-probe frees its slot. */
const LEASE_TTL_MS = 60_000;

export async function createHealthAwarePicker(options: {
  nats: NatsConnection;
  cluster?: string;
  /** Read on every pick, so a config reload's selection and probe settings apply at once. */
  config: () => SwitchboardConfig;
  pool: UpstreamPool;
  view: HealthView;
  random01?: () => number;
}): Promise<HealthAwarePicker> {
  const { config, pool, view } = options;
  const random01 = options.random01 ?? Math.random;
  const leases: KV = await options.nats.jetstream().views.kv(probeLeaseBucket(options.cluster), { history: 1, ttl: LEASE_TTL_MS });
  const inFlight = new Map<string, number>();
  const draws = new Map<string, ReturnType<typeof createSmoothDraw>>();
  // One round-robin per candidate set: a model served by part of the pool has its own.
  const drawFor = (key: string) => draws.get(key) ?? draws.set(key, createSmoothDraw()).get(key)!;

  // One slot per allowed concurrent probe of this half-open revision; whoever creates the key owns it.
  async function takeProbeSlot(upstream: string): Promise<string | undefined> {
    const breaker = view.breakers().get(upstream);
    const budget = breaker?.probeBudget ?? config().breaker.halfOpenMaxConcurrent;
    for (let slot = 0; slot < budget; slot++) {
      const key = `${upstream}.r${breaker?.revision ?? 0}.s${slot}`;
      try {
        await leases.create(key, new Uint8Array());
        return key;
      } catch {
        // taken by another probe somewhere in the cluster
      }
    }
    return undefined;
  }

  return async (provider, model, exclude, allowPanic) => {
    const skipped = new Set(exclude);
    for (;;) {
      const now = Date.now();
      const cfg = config();
      const candidates = pool.upstreams(provider, model).map((u) => ({ id: u.id, weight: u.weight }));
      const health = new Map(candidates.map((c) => [c.id, view.healthOf(c.id, now)]));
      const choice = selectUpstream({
        candidates,
        breakers: view.breakers(),
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
      const lease = await takeProbeSlot(upstream.id);
      if (!lease) {
        // The cluster's probe budget is spent: this upstream is not drawable for this attempt.
        skipped.add(upstream.id);
        continue;
      }
      inFlight.set(upstream.id, (inFlight.get(upstream.id) ?? 0) + 1);
      return {
        upstream,
        mode: choice.mode,
        reason: choice.reason,
        release: async () => {
          inFlight.set(upstream.id, Math.max(0, (inFlight.get(upstream.id) ?? 1) - 1));
          await leases.delete(lease).catch(() => undefined);
        },
      };
    }
  };
}
