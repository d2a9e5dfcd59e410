import { upstreamId, type SwitchboardConfig } from '../../schemas/config';
import type { UpstreamSecrets } from '../config/load';
import { createVendorClient } from '../vendors';
import type { VendorClient } from '../vendors/types';

export interface PooledUpstream {
  /** `<provider>/<name>` */
  id: string;
  provider: string;
  protocol: 'openai' | 'anthropic';
  weight: number;
  client: VendorClient;
}

/** Picks an upstream of `provider`, skipping `exclude`; undefined when none is left. */
export type UpstreamPicker = (provider: string, exclude: ReadonlySet<string>) => PooledUpstream | undefined;

/**
 * Every upstream of every provider with its SDK client, and a smooth weighted
 * round-robin picker (each upstream's share of picks follows its weight,
 * interleaved rather than in bursts). The breaker issue swaps the picker for a
 * health-aware one; the pool stays.
 */
export class UpstreamPool {
  private readonly byProvider = new Map<string, PooledUpstream[]>();
  private readonly current = new Map<string, number>();

  constructor(config: SwitchboardConfig, secrets: UpstreamSecrets) {
    for (const [provider, p] of Object.entries(config.providers)) {
      const upstreams = p.upstreams.map((u) => {
        const id = upstreamId(provider, u.name);
        const apiKey = secrets.get(id);
        if (!apiKey) throw new Error(`no API key for upstream ${id}`);
        const baseUrl = u.baseUrl ?? p.baseUrl;
        if (!baseUrl) throw new Error(`no baseUrl for upstream ${id}`);
        return {
          id,
          provider,
          protocol: p.protocol,
          weight: u.weight,
          client: createVendorClient(p.protocol, { baseUrl, apiKey, ...(u.organization ? { organization: u.organization } : {}) }),
        };
      });
      this.byProvider.set(provider, upstreams);
    }
  }

  upstreams(provider: string): readonly PooledUpstream[] {
    return this.byProvider.get(provider) ?? [];
  }

  size(provider: string): number {
    return this.upstreams(provider).length;
  }

  /** Smooth weighted round-robin over the upstreams not excluded. */
  readonly pickWeighted: UpstreamPicker = (provider, exclude) => {
    const candidates = this.upstreams(provider).filter((u) => !exclude.has(u.id));
    if (candidates.length === 0) return undefined;
    const total = candidates.reduce((sum, u) => sum + u.weight, 0);
    let best: PooledUpstream | undefined;
    let bestScore = -Infinity;
    for (const u of candidates) {
      const score = (this.current.get(u.id) ?? 0) + u.weight;
      this.current.set(u.id, score);
      if (score > bestScore) {
        bestScore = score;
        best = u;
      }
    }
    this.current.set(best!.id, bestScore - total);
    return best;
  };
}
