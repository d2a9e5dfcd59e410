/**
 * Reading breaker states straight from KV (the CLI, tests). Writing is the
 * breakerSupervisor's alone, through activities/breakers.ts.
 */
import { JSONCodec, type NatsConnection } from 'nats';
import { openBucket } from '../nats/kv';
import { BreakerState } from '../../schemas/health';
import { breakerBucket } from '../../workflows/definitions';

const codec = JSONCodec<unknown>();

export async function readBreakerState(nats: NatsConnection, cluster: string | undefined, upstream: string): Promise<BreakerState | undefined> {
  const kv = await openBucket(nats, breakerBucket(cluster));
  const entry = await kv.get(upstream);
  if (!entry || entry.operation !== 'PUT') return undefined;
  const parsed = BreakerState.safeParse(codec.decode(entry.value));
  return parsed.success ? parsed.data : undefined;
}

/** The breakers of `upstreams` that have ever been written, by upstream id (one KV get each, in parallel). */
export async function readBreakerStates(nats: NatsConnection, cluster: string | undefined, upstreams: readonly string[]): Promise<Map<string, BreakerState>> {
  const states = await Promise.all(upstreams.map((id) => readBreakerState(nats, cluster, id)));
  return new Map(states.flatMap((s) => (s ? [[s.upstream, s] as const] : [])));
}
