/**
 * Breaker state at both levels, one-hot (1 for the state the worker's copy of
 * KV `sb_breakers` holds, 0 for the others, so `{state="open"} == 1` selects
 * open breakers and a sum by state counts them); a breaker never written is
 * closed. Read at scrape time from the local copy: no network.
 * - `sb_breaker_state{provider, upstream, state}`: each upstream's own breaker
 *   (its account: 401/403, billing, quota, locked);
 * - `sb_model_breaker_state{provider, upstream, model, state}`: the breaker of
 *   each model a route sends to the upstream.
 */
import { Gauge, type Registry } from 'prom-client';
import type { BreakerTarget } from '../health-registry/breaker-targets';
import { BreakerStateKind, type BreakerState } from '../../schemas/health';

export interface BreakerMetricsSource {
  /** By breaker key. */
  breakers(): ReadonlyMap<string, BreakerState>;
  /** The breakers of the current config (`breakerTargetsOf`). */
  targets(): readonly BreakerTarget[];
}

export function registerBreakerMetrics(registry: Registry, source: BreakerMetricsSource): void {
  new Gauge({
    name: 'sb_breaker_state',
    help: "An upstream's own (account-level) breaker, one-hot: 1 for the current state (closed|half_open|open|forced_open|forced_closed), 0 for the others",
    labelNames: ['provider', 'upstream', 'state'] as const,
    registers: [registry],
    collect() {
      // Removed upstreams disappear from the scrape rather than keep their last value.
      this.reset();
      const breakers = source.breakers();
      for (const t of source.targets()) {
        if (t.model !== undefined) continue;
        const current = breakers.get(t.key)?.state ?? 'closed';
        // `provider` lets an alert ask whether a whole pool is open.
        for (const state of BreakerStateKind.options) this.set({ provider: t.provider, upstream: t.upstream, state }, state === current ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'sb_model_breaker_state',
    help: 'The breaker of one model on an upstream, one-hot: 1 for the current state (closed|half_open|open|forced_open|forced_closed), 0 for the others',
    labelNames: ['provider', 'upstream', 'model', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const breakers = source.breakers();
      for (const t of source.targets()) {
        if (t.model === undefined) continue;
        const current = breakers.get(t.key)?.state ?? 'closed';
        for (const state of BreakerStateKind.options)
          this.set({ provider: t.provider, upstream: t.upstream, model: t.model, state }, state === current ? 1 : 0);
      }
    },
  });
}
