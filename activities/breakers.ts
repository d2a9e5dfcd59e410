import { headers as natsHeaders, JSONCodec, type NatsConnection } from 'nats';
import type { Logger } from '../lib/log';
import { openBucket } from '../lib/nats/kv';
import { BreakerState, type BreakerEvent, type BreakerPolicy } from '../schemas/health';
import { BREAKER_CLUSTER_HEADER, breakerBucket, breakerSubject } from '../contracts/names';
import { postBreakerWebhook } from '../lib/health-registry/webhook';
import { readBreakerState } from '../lib/health-registry/breaker-store';
import { breakerKeyOfState } from '../lib/health';

export interface BreakerActivityDeps {
  nats: NatsConnection;
  log: Logger;
  /** Slack-compatible incoming webhook for transitions; default none (off). */
  webhookUrl?: string;
  /** The worker's live breaker settings (a config reload changes them); default none: supervisors keep their start policy. */
  policy?: () => BreakerPolicy;
}

const codec = JSONCodec<unknown>();

/**
 * The breakerSupervisor's hands: the only code that writes `sb_breakers` and
 * publishes on `sb.breaker.<upstreamId>`. Each is idempotent, so Temporal's
 * activity retries are safe.
 */
export function createBreakerActivities({ nats, log, webhookUrl, policy }: BreakerActivityDeps) {
  return {
    /** The breaker settings this worker runs with now (a local activity of the supervisor). */
    async currentBreakerPolicy(): Promise<BreakerPolicy | undefined> {
      return policy?.();
    },

    async readBreakerState({ cluster, key, upstream }: { cluster?: string; key?: string; upstream?: string }): Promise<BreakerState | undefined> {
      // `upstream`: what supervisors started before models had breakers pass.
      return readBreakerState(nats, cluster, key ?? upstream ?? '');
    },

    async writeBreakerState({ cluster, state }: { cluster?: string; state: BreakerState }): Promise<void> {
      const kv = await openBucket(nats, breakerBucket(cluster));
      await kv.put(breakerKeyOfState(state), codec.encode(BreakerState.parse(state)));
    },

    async publishBreakerEvent({ cluster, event }: { cluster?: string; event: BreakerEvent }): Promise<void> {
      const h = natsHeaders();
      if (cluster) h.set(BREAKER_CLUSTER_HEADER, cluster);
      nats.publish(breakerSubject(breakerKeyOfState(event)), codec.encode(event), { headers: h });
      await nats.flush();
      log.warn(
        { upstream: event.upstream, ...(event.model !== undefined ? { model: event.model } : {}), transition: event.transition, reason: event.reason, cluster },
        'breaker transition',
      );
      if (webhookUrl) {
        // The operator's notice is best effort: a dead webhook must not hold the breaker back.
        await postBreakerWebhook(webhookUrl, event, cluster).catch((error: unknown) =>
          log.error({ err: error instanceof Error ? error.message : String(error) }, 'breaker webhook failed'),
        );
      }
    },
  };
}
