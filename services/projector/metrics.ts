/**
 * Prometheus view of the projector, read from its stats at scrape time:
 * rows written per table, batches, failed writes, messages held un-acked,
 * whether PostgreSQL answered the last write.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProjectorStats } from '../../lib/interactions/postgres-projector';

export function createProjectorMetrics(stats: () => ProjectorStats): Registry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'sb_projector_' });
  // The projector keeps plain totals; each counter advances by what was added since its last scrape.
  const mirror = (name: string, help: string, series: Array<{ labels?: Record<string, string>; pick: (s: ProjectorStats) => number }>) => {
    const last = series.map(() => 0);
    new Counter({
      name,
      help,
      labelNames: series[0]?.labels ? Object.keys(series[0].labels) : [],
      registers,
      collect() {
        const now = stats();
        series.forEach(({ labels, pick }, index) => {
          const delta = pick(now) - last[index]!;
          last[index] = pick(now);
          if (delta <= 0) return;
          if (labels) this.inc(labels, delta);
          else this.inc(delta);
        });
      },
    });
  };
  mirror('sb_projector_rows_total', 'Rows written to PostgreSQL by table (interactions|feedback|projection_rejects)', [
    { labels: { table: 'interactions' }, pick: (s) => s.interactions },
    { labels: { table: 'feedback' }, pick: (s) => s.feedback },
    { labels: { table: 'projection_rejects' }, pick: (s) => s.rejects },
  ]);
  mirror('sb_projector_batches_total', 'Batches committed', [{ pick: (s) => s.batches }]);
  mirror('sb_projector_write_failures_total', 'Failed batch writes (PostgreSQL down or refusing); the batch stays un-acked and is retried', [
    { pick: (s) => s.writeFailures },
  ]);
  new Gauge({
    name: 'sb_projector_held_messages',
    help: 'Messages fetched and not yet acked (their batch is not committed)',
    registers,
    collect() {
      this.set(stats().held);
    },
  });
  new Gauge({
    name: 'sb_projector_database_up',
    help: '1 when the last PostgreSQL write succeeded (or none failed yet)',
    registers,
    collect() {
      this.set(stats().databaseUp ? 1 : 0);
    },
  });
  return registry;
}
