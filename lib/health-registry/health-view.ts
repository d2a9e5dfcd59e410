/**
 * Asking the live workers of a cluster for their health view: each worker's
 * registry answers a core NATS request on `sb.health.<cluster>`, so the CLI
 * and tests can compare what every pod believes.
 */
import { ErrorCode, type Msg, type NatsConnection } from 'nats';
import { decodeJson } from '../nats/json-payload';
import { z } from 'zod';
import { BreakerState, UpstreamHealth } from '../../schemas/health';

export const HealthViewReply = z.object({
  /** The answering worker's identity. */
  worker: z.string(),
  at: z.number(),
  /** CallEvents folded since the worker started (replay included). */
  folded: z.number().int().nonnegative(),
  /** The worker has replayed the window it found at start. */
  replayed: z.boolean(),
  health: z.array(UpstreamHealth),
  breakers: z.array(BreakerState),
});
export type HealthViewReply = z.infer<typeof HealthViewReply>;

export function healthViewSubject(cluster: string | undefined): string {
  return `sb.health.${cluster ?? 'default'}`;
}

/** Every answer that arrives within `waitMs` (one per live worker of the cluster). */
export async function requestHealthViews(nats: NatsConnection, cluster: string | undefined, waitMs = 500): Promise<HealthViewReply[]> {
  const replies: HealthViewReply[] = [];
  let inbox: AsyncIterable<Msg>;
  try {
    inbox = await nats.requestMany(healthViewSubject(cluster), undefined, { maxWait: waitMs });
    for await (const message of inbox) {
      if (message.data.length === 0) continue;
      const parsed = HealthViewReply.safeParse(decodeJson(message.data));
      if (parsed.success) replies.push(parsed.data);
    }
  } catch (error) {
    // No worker of the cluster is listening: an empty answer, not an error.
    if (error instanceof Error && 'code' in error && error.code === ErrorCode.NoResponders) return [];
    throw error;
  }
  return replies;
}
