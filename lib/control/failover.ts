import { JSONCodec, type KV, type NatsConnection } from 'nats';
import { decodeJson } from '../nats/json-payload';
import { z } from 'zod';
import { buckets, openBucket } from '../nats/kv';

/** The global failover switch, stored at `sb_control/failover`. */
export const FailoverSwitch = z.object({
  /** Provider every plan avoids; null turns the switch off. */
  avoid: z.string().nullable(),
  reason: z.string().optional(),
  by: z.string().optional(),
  at: z.number(),
});
export type FailoverSwitch = z.infer<typeof FailoverSwitch>;

const FAILOVER_KEY = 'failover';
const codec = JSONCodec<unknown>();

/** Flips the switch (CLI, tests, operators' scripts). */
export async function setFailover(
  nc: NatsConnection,
  avoid: string | null,
  meta: { reason?: string; by?: string } = {},
  bucket: string = buckets.control,
): Promise<FailoverSwitch> {
  const kv = await openBucket(nc, bucket);
  const value: FailoverSwitch = { avoid, ...meta, at: Date.now() };
  await kv.put(FAILOVER_KEY, codec.encode(value));
  return value;
}

export interface FailoverWatch {
  /** The provider to avoid right now, from the local copy: no network round trip. */
  avoidedProvider(): string | undefined;
  close(): Promise<void>;
}

/**
 * Keeps a local copy of the switch, updated by a KV watch the moment an
 * operator flips it (well within a second on every worker).
 */
export async function watchFailover(
  nc: NatsConnection,
  onChange?: (value: FailoverSwitch | null) => void,
  bucket: string = buckets.control,
): Promise<FailoverWatch> {
  const kv: KV = await openBucket(nc, bucket);
  let current: FailoverSwitch | null = null;
  const watcher = await kv.watch({ key: FAILOVER_KEY });
  let ready!: () => void;
  const initialised = new Promise<void>((resolve) => (ready = resolve));
  // An empty bucket never delivers an initial entry; do not wait for one.
  const initial = await kv.get(FAILOVER_KEY);
  if (!initial || initial.operation !== 'PUT') ready();
  void (async () => {
    for await (const entry of watcher) {
      if (entry.operation === 'PUT') {
        const parsed = FailoverSwitch.safeParse(decodeJson(entry.value));
        current = parsed.success ? parsed.data : null;
      } else {
        current = null;
      }
      ready();
      onChange?.(current);
    }
  })();
  await initialised;
  return {
    avoidedProvider: () => current?.avoid ?? undefined,
    close: async () => watcher.stop(),
  };
}
