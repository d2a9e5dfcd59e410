/**
 * Whether NATS answers right now, as a publisher or limiter can tell without
 * waiting: the connection's disconnect/reconnect events, and a short
 * "suspect" period after an operation timed out, so the next ones do not
 * each wait for the same timeout.
 */
import type { NatsConnection } from 'nats';

/** After an operation timed out, NATS counts as down for this long. */
const SUSPECT_MS = 2_000;

export interface NatsReachability {
  isDown(): boolean;
  /** An operation timed out or failed: count NATS as down for a moment. */
  suspect(): void;
  /** Called on every reconnect (an outbox drains then). */
  onReconnect(listener: () => void): void;
}

export function watchNats(nats: NatsConnection): NatsReachability {
  let disconnected = false;
  let suspectUntil = 0;
  const listeners: Array<() => void> = [];
  void (async () => {
    for await (const status of nats.status()) {
      if (status.type === 'disconnect' || status.type === 'staleConnection') disconnected = true;
      if (status.type === 'reconnect') {
        disconnected = false;
        suspectUntil = 0;
        for (const listener of listeners) listener();
      }
    }
  })().catch(() => undefined);
  return {
    isDown: () => disconnected || nats.isClosed() || Date.now() < suspectUntil,
    suspect: () => (suspectUntil = Date.now() + SUSPECT_MS),
    onReconnect: (listener) => listeners.push(listener),
  };
}
