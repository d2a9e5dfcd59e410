/**
 * Reading breaker states straight from KV (the CLI, tests). Writing is the
 * breakerSupervisor's alone, through activities/breakers.ts.
 */
import { type NatsConnection } from 'nats';
import { decodeJson } from '../nats/json-payload';
import { openBucket } from '../nats/kv';
import { BreakerState } from '../../schemas/health';
import { breakerBucket } from '../../contracts/names';

/** The breaker `key` (an upstream id, or `breakerKeyOf(upstream, model)`), if it was ever written. */
export async function readBreakerState(nats: NatsConnection, cluster: string | undefined, key: string): Promise<BreakerState | undefined> {
  const kv = await openBucket(nats, breakerBucket(cluster));
  const entry = await kv.get(key);
  if (!entry || entry.operation !== 'PUT') return undefined;
  const parsed = BreakerState.safeParse(decodeJson(entry.value));
  return parsed.success ? parsed.data : undefined;
}

/** The breakers of `keys` that have ever been written, by key (one KV get each, in parallel). */
export async function readBreakerStates(nats: NatsConnection, cluster: string | undefined, keys: readonly string[]): Promise<Map<string, BreakerState>> {
  const states = await Promise.all(keys.map(async (key) => [key, await readBreakerState(nats, cluster, key)] as const));
  return new Map(states.flatMap(([key, s]) => (s ? [[key, s] as const] : [])));
}
