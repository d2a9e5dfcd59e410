/**
 * Creates every stream and KV bucket Switchboard uses on a fresh JetStream
 * cluster, with three copies, before any worker or gateway starts — and waits
 * until each has a leader and current replicas. Processes started against a
 * cluster still forming its streams' raft groups see "no responders" (503) on
 * their first reads; here they find everything settled.
 */
import type { NatsConnection } from 'nats';
import { waitFor } from '../../lib/ports';
import { buckets, openBucket } from '../../lib/nats/kv';
import { kvStreamName } from '../../lib/nats/replicas';
import { ensureStreams, streams } from '../../lib/nats/streams';
import { PROBE_LEASE_TTL_MS } from '../../lib/health-registry/probe-leases';
import { probeLeaseBucket } from '../../contracts/names';
import { BUCKET_MAX_AGE_MS } from '../../activities/cache';
import { ATTEMPT_JOURNAL_TTL_MS } from '../../lib/nats/attempt-journal';
import type { SwitchboardConfig } from '../../schemas/config';

export async function setUpJetStream(nc: NatsConnection, config: SwitchboardConfig, replicas: number, timeoutMs = 120_000): Promise<void> {
  const jsm = await ensureStreams(nc);
  await openBucket(nc, buckets.control);
  await openBucket(nc, buckets.breakers);
  await openBucket(nc, config.gateway.admission.bucket, { history: 1 });
  await openBucket(nc, buckets.cache, { history: 1, ttl: BUCKET_MAX_AGE_MS });
  await openBucket(nc, probeLeaseBucket(undefined), { history: 1, ttl: PROBE_LEASE_TTL_MS });
  await openBucket(nc, buckets.attempts, { history: 1, ttl: ATTEMPT_JOURNAL_TTL_MS });
  const names = [
    ...Object.values(streams).map((s) => s.name),
    ...[buckets.control, buckets.breakers, config.gateway.admission.bucket, buckets.cache, probeLeaseBucket(undefined), buckets.attempts].map(kvStreamName),
  ];
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
