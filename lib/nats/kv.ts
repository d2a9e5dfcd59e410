import type { KV, NatsConnection } from 'nats';

/** KV buckets Switchboard owns. */
export const buckets = {
  /** Operator switches: key `failover` names a provider to avoid. */
  control: 'sb_control',
  /** Breaker state per upstream, written only by its breakerSupervisor. */
  breakers: 'sb_breakers',
  /** Exact response cache: `<tenant>.<sha256>` → a stored (masked) answer. */
  cache: 'sb_cache',
} as const;

/** Opens (creating if needed) a KV bucket. */
export async function openBucket(nc: NatsConnection, bucket: string, history = 5): Promise<KV> {
  return nc.jetstream().views.kv(bucket, { history });
}
