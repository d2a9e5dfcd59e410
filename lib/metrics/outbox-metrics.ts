/** The outbox as Prometheus sees it: records waiting for NATS, and records dropped after waiting too long. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Outbox } from '../nats/outbox';

export function createOutboxMetrics(registry: Registry) {
  const dropped = new Counter({
    name: 'sb_outbox_dropped_total',
    help: 'JetStream records dropped after waiting longer than outbox.maxHoldMs for NATS (or with the outbox full)',
    labelNames: ['stream', 'why'] as const,
    registers: [registry],
  });
  let watched: Outbox | undefined;
  new Gauge({
    name: 'sb_outbox_pending',
    help: 'JetStream records waiting in the outbox for NATS',
    registers: [registry],
    collect() {
      this.set(watched?.pending() ?? 0);
    },
  });
  return {
    /** `sb.call.openai.x` → stream label `call`. */
    onDropped: (subject: string, why: 'expired' | 'full') => dropped.inc({ stream: subject.split('.')[1] ?? 'unknown', why }),
    watch: (outbox: Outbox) => (watched = outbox),
  };
}
