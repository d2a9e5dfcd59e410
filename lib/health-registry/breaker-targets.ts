/**
 * Every breaker a config implies, in config order: each upstream's own, then
 * one per model that a route sends to it (and that it serves). What the CLI's
 * `status` lists and the metrics expose, breakers never tripped included.
 */
import { breakerKeyOf } from '../health/breaker-levels';
import { upstreamId, type SwitchboardConfig } from '../../schemas/config';

export interface BreakerTarget {
  key: string;
  upstream: string;
  provider: string;
  /** Absent for the upstream's own breaker. */
  model?: string;
}

export function breakerTargetsOf(config: SwitchboardConfig): BreakerTarget[] {
  const routed = Object.values(config.routes).flatMap((route) => route.entries);
  return Object.entries(config.providers).flatMap(([provider, p]) =>
    p.upstreams.flatMap((u) => {
      const upstream = upstreamId(provider, u.name);
      const models = [...new Set(routed.filter((e) => e.provider === provider).map((e) => e.model))].filter((m) => !u.models || u.models.includes(m));
      return [{ key: upstream, upstream, provider }, ...models.map((model) => ({ key: breakerKeyOf(upstream, model), upstream, provider, model }))];
    }),
  );
}
