/**
 * `sb_breaker_state{provider, upstream, state}`: one series per upstream and breaker
 * state, 1 for the state the worker's copy of KV `sb_breakers` holds and 0
 * for the others (one-hot, so `sb_breaker_state{state="open"} == 1` selects
 * open breakers and a sum by state counts them). An upstream never written
 * to KV is closed. Read at scrape time from the local copy: no network.
 */
import { Gauge, type Registry } from 'prom-client';
import { BreakerStateKind, type BreakerState } from '../../schemas/health';

export interface BreakerMetricsSource {
  breakers(): ReadonlyMap<string, BreakerState>;
  /** Upstream ids of the current config. */
  upstreams(): readonly string[];
}

export function registerBreakerMetrics(registry: Registry, source: BreakerMetricsSource): void {
  new Gauge({
    name: 'sb_breaker_state',
    help: 'Breaker state per upstream, one-hot: 1 for the current state (closed|half_open|open|forced_open|forced_closed), 0 for the others',
    labelNames: ['provider', 'upstream', 'state'] as const,
    registers: [registry],
    collect() {
      // Removed upstreams disappear from the scrape rather than keep their last value.
      this.reset();
      const breakers = source.breakers();
      for (const upstream of source.upstreams()) {
        const current = breakers.get(upstream)?.state ?? 'closed';
        // `provider` lets an alert ask whether a whole pool is open.
        const provider = upstream.slice(0, upstream.indexOf('/'));
        for (const state of BreakerStateKind.options) this.set({ provider, upstream, state }, state === current ? 1 : 0);
      }
    },
  });
}
