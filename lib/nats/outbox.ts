/**
 * JetStream publishing that survives a NATS blip: a message JetStream does
 * not acknowledge (NATS down, restarting, too slow) waits in this process's
 * outbox and is published again — with the same msgID, so the stream stores
 * it once even when the first try did land — as soon as NATS is back (on
 * reconnect, and every `retryEveryMs`). The caller is not held up: `publish`
 * resolves once the message is stored or queued. A message still unsent after
 * `maxHoldMs`, or beyond `maxMessages` queued, is dropped, counted and logged.
 * The outbox lives in memory: a process that dies during an outage loses
 * what it holds (docs/operations.md).
 */
import type { JetStreamClient, NatsConnection } from 'nats';
import type { Logger } from '../log';
import { watchNats, type NatsReachability } from './reachability';

export interface OutboxOptions {
  /** How long a message may wait for NATS before it is dropped. Keep it within the streams' duplicate window (120 s). Default 120 s. */
  maxHoldMs?: number;
  /** Messages queued at most; more are dropped at once. Default 100 000. */
  maxMessages?: number;
  /** A publish not acknowledged within this is queued. Default 2 s. */
  publishTimeoutMs?: number;
  /** How often a non-empty outbox retries when no reconnect tells it to. Default 500 ms. */
  retryEveryMs?: number;
  log: Logger;
  /** Told of every message dropped (the metric). */
  onDropped?: (subject: string, why: 'expired' | 'full') => void;
}

interface Held {
  subject: string;
  data: Uint8Array;
  msgID: string;
  queuedAt: number;
}

export interface Outbox {
  /** Stores the message on JetStream, or queues it while NATS is away. Resolves either way. */
  publish(subject: string, data: Uint8Array, msgID: string): Promise<void>;
  /** Messages waiting now. */
  pending(): number;
  /** Messages dropped so far. */
  dropped(): number;
  /** Tries to send what is queued, for up to `timeoutMs`; then stops retrying and logs what is left. */
  close(timeoutMs?: number): Promise<void>;
}

/** Publishes a queued batch at once: fast to drain thousands after an outage, small enough to stop soon when NATS goes again. */
const DRAIN_BATCH = 64;

export function createOutbox(nats: NatsConnection, options: OutboxOptions): Outbox {
  const maxHoldMs = options.maxHoldMs ?? 120_000;
  const maxMessages = options.maxMessages ?? 100_000;
  const js: JetStreamClient = nats.jetstream({ timeout: options.publishTimeoutMs ?? 2_000 });
  const reach: NatsReachability = watchNats(nats);
  const queue: Held[] = [];
  let droppedCount = 0;
  let draining: Promise<void> | undefined;
  let closed = false;

  const drop = (held: Held, why: 'expired' | 'full') => {
    droppedCount += 1;
    options.onDropped?.(held.subject, why);
    options.log.error({ subject: held.subject, msgID: held.msgID, why, heldMs: Date.now() - held.queuedAt }, 'outbox dropped a message NATS never took');
  };

  const send = (held: Held) => js.publish(held.subject, held.data, { msgID: held.msgID }).then(() => undefined);

  /** Drops what waited longer than maxHoldMs (oldest first: the queue is in arrival order). */
  const expire = () => {
    const now = Date.now();
    while (queue.length && now - queue[0]!.queuedAt > maxHoldMs) drop(queue.shift()!, 'expired');
  };

  async function drainOnce(): Promise<void> {
    while (queue.length && !reach.isDown()) {
      expire();
      const batch = queue.slice(0, DRAIN_BATCH);
      if (!batch.length) return;
      const results = await Promise.allSettled(batch.map(send));
      const firstFailed = results.findIndex((r) => r.status === 'rejected');
      // Keep what failed (and everything behind it) in order; the rest is stored.
      const sent = firstFailed === -1 ? batch.length : firstFailed;
      const stillHeld = results.slice(sent).flatMap((r, i) => (r.status === 'rejected' ? [batch[sent + i]!] : []));
      queue.splice(0, batch.length, ...stillHeld);
      if (firstFailed !== -1) {
        reach.suspect();
        return;
      }
    }
  }

  const drain = () => {
    draining ??= drainOnce()
      .catch((error: unknown) => options.log.warn({ err: error }, 'outbox drain failed; retrying'))
      .finally(() => (draining = undefined));
    return draining;
  };
  reach.onReconnect(() => void drain());
  const timer = setInterval(() => {
    expire();
    if (queue.length) void drain();
  }, options.retryEveryMs ?? 500);
  timer.unref();

  const hold = (subject: string, data: Uint8Array, msgID: string) => {
    const held = { subject, data, msgID, queuedAt: Date.now() };
    if (queue.length >= maxMessages || closed) drop(held, 'full');
    else queue.push(held);
  };

  return {
    async publish(subject, data, msgID) {
      // Behind others already waiting (keeps order), or NATS known to be away: queue without waiting for a timeout.
      if (queue.length || reach.isDown()) return hold(subject, data, msgID);
      try {
        await js.publish(subject, data, { msgID });
      } catch (error) {
        reach.suspect();
        options.log.warn({ err: error instanceof Error ? error.message : String(error), subject }, 'JetStream did not take a message; it waits in the outbox');
        hold(subject, data, msgID);
      }
    },
    pending: () => queue.length,
    dropped: () => droppedCount,
    async close(timeoutMs = 5_000) {
      const until = Date.now() + timeoutMs;
      while (queue.length && Date.now() < until) {
        await drain();
        if (queue.length) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      closed = true;
      clearInterval(timer);
      if (queue.length) {
        options.log.error({ pending: queue.length }, 'outbox closed with messages NATS never took');
        for (const held of queue.splice(0)) drop(held, 'expired');
      }
    },
  };
}
