/**
 * Creates every stream and KV bucket Switchboard uses on a fresh JetStream
 * cluster, with three copies, before any worker or gateway starts — and waits
 * until each has a leader and current replicas. Processes started against a
 * cluster still forming its streams' raft groups see "no responders" (503) on
 * their first reads; here they find everything settled.
 */
import type { KvOptions, NatsConnection } from 'nats';
import { waitFor } from '../../lib/ports';
import { buckets, openBucket } from '../../lib/nats/kv';
import { kvStreamName } from '../../lib/nats/replicas';
import { ensureStreams, streams } from '../../lib/nats/streams';
import { PROBE_LEASE_TTL_MS } from '../../lib/health-registry/probe-leases';
import { breakerBucket, probeLeaseBucket } from '../../contracts/names';
import { BUCKET_MAX_AGE_MS } from '../../activities/cache';
import { ATTEMPT_JOURNAL_TTL_MS } from '../../lib/nats/attempt-journal';
import type { SwitchboardConfig } from '../../schemas/config';

/**
 * Every KV bucket the workers and gateways of one deployment open, with the
 * options they open it with (`sb_responses` too, which a gateway opens only
 * at its first Responses API call). The node-loss test measures each.
 */
export function switchboardBuckets(config: SwitchboardConfig): { bucket: string; options: Partial<KvOptions> }[] {
  return [
    { bucket: buckets.control, options: {} },
    { bucket: breakerBucket(undefined), options: {} },
    { bucket: probeLeaseBucket(undefined), options: { history: 1, ttl: PROBE_LEASE_TTL_MS } },
    { bucket: config.gateway.admission.bucket, options: { history: 1 } },
    { bucket: buckets.cache, options: { history: 1, ttl: BUCKET_MAX_AGE_MS } },
    { bucket: buckets.attempts, options: { history: 1, ttl: ATTEMPT_JOURNAL_TTL_MS } },
    { bucket: buckets.responses, options: { history: 1 } },
  ];
}

export async function setUpJetStream(nc: NatsConnection, config: SwitchboardConfig, replicas: number, timeoutMs = 120_000): Promise<void> {
  const jsm = await ensureStreams(nc);
  for (const { bucket, options } of switchboardBuckets(config)) await openBucket(nc, bucket, options);
  const names = [...Object.values(streams).map((s) => s.name), ...switchboardBuckets(config).map((b) => kvStreamName(b.bucket))];
  for (const name of names) {
    await waitFor(
      `${name}: a leader and ${replicas - 1} current replicas`,
      async () => {
        const { cluster } = await jsm.streams.info(name);
        return Boolean(cluster?.leader) && (cluster?.replicas ?? []).filter((r) => r.current).length >= replicas - 1;
      },
      timeoutMs,
      250,
    );
  }
}
