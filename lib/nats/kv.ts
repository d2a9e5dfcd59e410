import type { KV, KvOptions, NatsConnection } from 'nats';
import { openReplicatedBucket } from './replicas';

/** KV buckets Switchboard owns. */
export const buckets = {
  /** Operator switches: key `failover` names a provider to avoid. */
  control: 'sb_control',
  /** Breaker state per upstream, written only by its breakerSupervisor. */
  breakers: 'sb_breakers',
  /** Exact response cache: `<tenant>.<sha256>` → a stored (masked) answer. */
  cache: 'sb_cache',
  /** The attempt journal: `<call>.<ask>` → a vendor's (masked) answer, for a few minutes (lib/nats/attempt-journal.ts). */
  attempts: 'sb_attempts',
  /** Responses API conversations: `<tenant>.<responseId>` → the conversation up to that response (services/gateway/responses/store.ts). */
  responses: 'sb_responses',
} as const;

/**
 * Opens (creating if needed) a KV bucket with the connection's replica count
 * (`SB_NATS_REPLICAS`); `options` default to a history of 5 per key.
 */
export async function openBucket(nc: NatsConnection, bucket: string, options: Partial<KvOptions> = {}): Promise<KV> {
  return openReplicatedBucket(nc, bucket, { history: 5, ...options });
}

/**
 * JetStream error codes of a write whose expected revision did not hold: 10071
 * ("wrong last sequence: <seq>"), and 10164 ("wrong last sequence"), which a
 * clustered stream answers while another write to the same key is still
 * being proposed — on a NATS cluster that is the usual way to lose a race.
 */
const REVISION_CONFLICT_CODES: ReadonlySet<number> = new Set([10071, 10164]);

/** Whether `error` says another writer changed the key first (compare-and-set lost), not that NATS failed. */
export function isRevisionConflict(error: unknown): boolean {
  const code = (error as { api_error?: { err_code?: unknown } } | null | undefined)?.api_error?.err_code;
  return typeof code === 'number' && REVISION_CONFLICT_CODES.has(code);
}
