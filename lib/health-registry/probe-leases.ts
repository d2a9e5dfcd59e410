/**
 * The cluster-wide half-open probe budget: one lease per probe slot of a
 * half-open revision, taken with KV create (a compare-and-set) in
 * `<breakers bucket>_probes`. A slot is used once: it is never given back,
 * not even when its probe failed — the re-open may not have reached every pod
 * yet, and a freed slot would let a pod with a stale copy send a second probe
 * in the same half-open period. A new period is a new revision, with new slots.
 */
import type { KV, NatsConnection } from 'nats';
import { openBucket } from '../nats/kv';
import { probeLeaseBucket } from '../../contracts/names';

/** Leases expire on their own; longer than any half-open period (`halfOpenTimeoutMs` is at most this). */
export const PROBE_LEASE_TTL_MS = 60_000;
/** Spent revisions remembered locally (saves a KV round trip per pick while the budget is spent). */
const SPENT_KEPT = 1_000;

export interface ProbeLeases {
  /** A slot of `breaker`'s half-open `revision` (< `budget`), or undefined when every slot is taken cluster-wide. */
  take(breaker: string, revision: number, budget: number): Promise<string | undefined>;
}

export async function openProbeLeases(nats: NatsConnection, cluster: string | undefined): Promise<ProbeLeases> {
  const leases: KV = await openBucket(nats, probeLeaseBucket(cluster), { history: 1, ttl: PROBE_LEASE_TTL_MS });
  const spent = new Set<string>();
  return {
    async take(breaker, revision, budget) {
      const period = `${breaker}.r${revision}`;
      if (spent.has(period)) return undefined;
      for (let slot = 0; slot < budget; slot++) {
        const key = `${period}.s${slot}`;
        try {
          await leases.create(key, new Uint8Array());
          return key;
        } catch {
          // taken by another probe somewhere in the cluster
        }
      }
      if (spent.size >= SPENT_KEPT) spent.clear();
      spent.add(period);
      return undefined;
    },
  };
}
