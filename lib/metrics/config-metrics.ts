/**
 * Config reloads on a process's registry (worker or gateway):
 * `sb_config_reloads_total{result="applied"|"rejected"}` and
 * `sb_config_generation` (1 at start, +1 per applied reload), so an alert can
 * catch a rejected push and a dashboard can show pods on different generations.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LiveConfig } from '../config/live-config';

export function registerConfigMetrics(registry: Registry, live: LiveConfig): () => void {
  const registers = [registry];
  const reloads = new Counter({
    name: 'sb_config_reloads_total',
    help: 'Config reloads by result (applied|rejected)',
    labelNames: ['result'] as const,
    registers,
  });
  // Both series exist from the start, so `increase()` sees the first rejection.
  reloads.inc({ result: 'applied' }, 0);
  reloads.inc({ result: 'rejected' }, 0);
  new Gauge({
    name: 'sb_config_generation',
    help: 'Generation of the config this process serves (1 at start, +1 per applied reload)',
    registers,
    collect() {
      this.set(live.generation());
    },
  });
  return live.onOutcome((outcome) => reloads.inc({ result: outcome.result }));
}
